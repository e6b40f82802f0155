"""English, the only language of the app."""
