"""Django format modules (FORMAT_MODULE_PATH): see deployflow/dates.py."""
