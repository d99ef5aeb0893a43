"""`python -m trackagoat_mcp` behaves exactly like the `trackagoat-mcp` console script."""

from trackagoat_mcp.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
