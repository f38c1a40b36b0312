//! Decoder tests on built frames: each link type, tunnel and fragment path, and a randomized smoke test.
