"""Coverage-guided fuzzers for code that reads untrusted bytes (`make fuzz`; a bounded run is in the tests)."""
