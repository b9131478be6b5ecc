from pipeline.cli import main

# Guarded so that worker processes started with the "spawn" method can import this module.
if __name__ == "__main__":
    main()
