from loom.platform.cli import main

main()
