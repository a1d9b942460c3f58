"""The `kinko` command line: thin, it parses, calls a service and renders."""
