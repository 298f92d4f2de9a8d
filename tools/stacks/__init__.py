"""stacks: the operator's command line. One verb per operation (deploy, rollback, plan, status,
logs, exec, ...), each a make target of the same name. It runs on the controller, an operator's
laptop (Linux or macOS) or a CI runner, with Python and the packages of the root uv.lock only: no
root, no Docker. Every input is checked once, in inputs.py, before any host is contacted."""
