#!/bin/bash
# Creates one Grafana organisation per line of organisations.csv (« nom;territoire;identifiant ») and
# provisions in it a datasource scoped to that territory and the « Couverture locale » dashboard.
# Grafana cannot provision organisations from files, and refuses to start on a provisioning file that
# names a missing organisation: so the organisation is created through the API first, then the file is
# written and Grafana is asked to reload its provisioning. Safe to run any number of times.
#
# Environment: GRAFANA_URL (default http://grafana:3000), GF_SECURITY_ADMIN_USER/PASSWORD,
# GF_PATHS_PROVISIONING (Grafana's provisioning folder, shared with the Grafana container),
# FNE_EPCI_DIR (folder of organisations.csv and the templates), FNE_STAY=1 to keep running afterwards
# (Kubernetes sidecar).
set -euo pipefail
url=${GRAFANA_URL:-http://grafana:3000}
auth="${GF_SECURITY_ADMIN_USER:-admin}:${GF_SECURITY_ADMIN_PASSWORD:?GF_SECURITY_ADMIN_PASSWORD non défini}"
dir=${FNE_EPCI_DIR:-/fne/grafana/epci}
prov=${GF_PATHS_PROVISIONING:?GF_PATHS_PROVISIONING non défini}

api() { curl -fsS -u "$auth" -H 'Content-Type: application/json' "$@"; }

echo "Attente de Grafana sur $url…"
for _ in $(seq 1 120); do
  curl -fsS "$url/api/health" >/dev/null 2>&1 && break
  sleep 2
done
curl -fsS "$url/api/health" >/dev/null || { echo "Grafana ne répond pas sur $url" >&2; exit 1; }

# org_id NAME: id of the organisation called NAME, empty when there is none.
org_id() {
  api "$url/api/orgs?perpage=1000" | tr '}' '\n' | grep -F "\"name\":\"$1\"" | sed -n 's/.*"id":\([0-9]*\).*/\1/p' | head -n 1
}

mkdir -p "$prov/datasources" "$prov/dashboards"
keep=()
while IFS=';' read -r nom territoire ident; do
  case "$nom" in ''|'#'*) continue ;; esac
  if ! [[ "$ident" =~ ^[a-z0-9-]+$ ]] || ! [[ "$territoire" =~ ^(epci|com):[0-9A-Za-z]+$ ]] || [[ "$nom" =~ [\"\\\$\&\<\>\|] ]]; then
    echo "Ligne ignorée (nom sans \" \\ \$ & < > |, territoire epci:… ou com:…, identifiant en minuscules) : $nom;$territoire;$ident" >&2
    continue
  fi
  id=$(org_id "$nom")
  if [ -z "$id" ]; then
    api -X POST "$url/api/orgs" -d "{\"name\":\"$nom\"}" >/dev/null
    id=$(org_id "$nom")
    echo "Organisation créée : $nom (n° $id)"
  else
    echo "Organisation existante : $nom (n° $id)"
  fi
  [ -n "$id" ] || { echo "Impossible de créer l'organisation $nom" >&2; exit 1; }
  for kind in datasources dashboards; do
    case $kind in datasources) tmpl="$dir/datasource.yaml.tmpl" ;; dashboards) tmpl="$dir/dashboards.yaml.tmpl" ;; esac
    sed -e "s|@NOM@|$nom|g" -e "s|@TERRITOIRE@|$territoire|g" -e "s|@IDENTIFIANT@|$ident|g" -e "s|@ORG_ID@|$id|g" \
      "$tmpl" > "$prov/$kind/epci-$ident.yaml.tmp"
    mv "$prov/$kind/epci-$ident.yaml.tmp" "$prov/$kind/epci-$ident.yaml"
  done
  keep+=("epci-$ident.yaml")
done < "$dir/organisations.csv"

# Files of EPCI removed from the list: their datasource and dashboards go away at the next reload (the
# organisation itself and its users are kept: delete it in Grafana's administration if needed).
for kind in datasources dashboards; do
  for f in "$prov/$kind"/epci-*.yaml; do
    [ -e "$f" ] || continue
    if ! printf '%s\n' "${keep[@]}" | grep -qxF "$(basename "$f")"; then
      rm -f "$f"; echo "Retiré : $f"
    fi
  done
done

api -X POST "$url/api/admin/provisioning/datasources/reload" >/dev/null
api -X POST "$url/api/admin/provisioning/dashboards/reload" >/dev/null
echo "Provisionnement des organisations d'EPCI rechargé (${#keep[@]} organisation(s))."
if [ "${FNE_STAY:-}" = 1 ]; then exec sleep infinity; fi
