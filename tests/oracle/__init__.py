"""libfreenect built from its own source at test time, as the oracle for depthview."""
