#!/bin/sh
# Images run one process each; no package may start a service while it is installed (exit 101 = denied).
exit 101
