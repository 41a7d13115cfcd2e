"""Where data lives: the database (engine, sessions, tables, migrations) and Redis."""
