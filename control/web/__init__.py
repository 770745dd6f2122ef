"""The web dashboard: static pages served by the API process that call only the REST API and its stream."""
