#!/bin/bash
# Entry point of the Grafana container (official image): copies the provisioning files of the
# repository into $GF_PATHS_PROVISIONING, which lives in Grafana's data volume next to its database,
# then starts Grafana as the image would. The EPCI organisations' files, generated there by
# organisations.sh, are left in place: they reference organisations stored in the same volume, so both
# always live and die together (Grafana refuses to start on a file naming an organisation it lacks).
set -euo pipefail
src=${FNE_GRAFANA_SRC:-/fne/grafana/provisioning}
dst=${GF_PATHS_PROVISIONING:?GF_PATHS_PROVISIONING non défini}
mkdir -p "$dst/datasources" "$dst/dashboards" "$dst/plugins" "$dst/alerting"
for kind in datasources dashboards alerting; do
  # Only the département's files: epci-*.yaml belong to organisations.sh.
  find "$dst/$kind" -maxdepth 1 -name '*.yaml' ! -name 'epci-*' -delete
  for f in "$src/$kind"/*.yaml; do
    [ -e "$f" ] && cp "$f" "$dst/$kind/"
  done
done
exec /run.sh "$@"
