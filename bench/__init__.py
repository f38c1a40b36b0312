"""The benchmark: workload generator (generate.py) and the runner timing tlsmon, Suricata, tshark (run.py)."""
