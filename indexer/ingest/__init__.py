"""Reading a corpus: bytes → cleaned documents → sentence-aligned passages."""
