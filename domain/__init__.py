"""Domain model shared by venues, detector, workflows and storage."""
