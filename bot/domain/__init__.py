"""The street's domain: cases and their routing, notices, residents, the directory, staff users, the three rates."""
