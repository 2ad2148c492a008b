"""`python -m bench`: every benchmark, one after the other."""

from bench import export_memory

if __name__ == "__main__":
    export_memory.main()
