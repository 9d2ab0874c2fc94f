"""The application layer: jobs that wire a config, a judge, a reward, a policy and data into a
run. The CLI, the Python API's job functions and the benchmarks call these; the building blocks
below (data, judges, rewards, trainers) never import them."""
