"""Development tooling: the launcher behind `make run` and `make test`."""
