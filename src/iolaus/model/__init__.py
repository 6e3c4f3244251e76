"""The domain: plain dataclasses and enums, free of I/O, shared by every layer."""
