"""Tools for the demo, the tests and the benches: never used by the production web app or scheduler."""
