"""python -m tools.figures: the pictures (the package's docstring says which)."""
import sys

from tools.figures import DataError, SavedModelError, main

if __name__ == "__main__":
    try:
        main()
    except (DataError, SavedModelError) as error:
        sys.exit(f"error: {error}")
