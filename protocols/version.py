"""Protocol version. Bump on any incompatible change of a message's fields."""

PROTOCOL_VERSION = 1
