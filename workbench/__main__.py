# The import stays under the guard: a model process started with "spawn"
# re-imports this module as __mp_main__, and should not pay for the whole CLI.
if __name__ == "__main__":
    from workbench.cli.main import main

    raise SystemExit(main())
