from nbhood_cli.cli import main

main()
