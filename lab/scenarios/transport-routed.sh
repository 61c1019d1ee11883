#!/bin/bash
# lab/scenarios/transport-routed.sh: lab test.  transport.sh with a routed connection
# (`whack --route` on both hosts before west's --initiate): the host-to-host TRAP policy
# must not swallow pluto's own IKE datagrams; then the same checks as transport.sh (ping
# 192.0.2.2 through ESP transport mode, only ESP on the wire).
#     lab/vm-run lab/scenarios/transport-routed.sh      (or lab/run-tests)
TRANSPORT_ROUTE=--route exec bash "${VMRUN_SCRIPT_DIR:-$(dirname "$0")}/transport.sh" "$@"
