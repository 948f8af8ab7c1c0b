"""A Python subscriber of the AppSync API, used by the main job, the tests and the benchmarks."""
