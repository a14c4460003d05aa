"""One module per subcommand; each imports its heavy libraries only when it runs."""
