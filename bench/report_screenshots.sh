#!/usr/bin/env bash
# Screenshots of a run's report.html at desktop (1400 px) and phone (400 px) width, in headless
# Chromium (Debian's `chromium` package: `apt-get install -y chromium`), to check the page by eye.
#   bench/report_screenshots.sh out/quickstart/1998-06-30 shots
# writes shots/report-1400.png and shots/report-400.png (the top 3000 px of the page).
set -euo pipefail
run_dir=${1:?usage: report_screenshots.sh RUN_DIR OUT_DIR}
out_dir=${2:?usage: report_screenshots.sh RUN_DIR OUT_DIR}
page="$(cd "$run_dir" && pwd)/report.html"
[ -f "$page" ] || { echo "no report.html in $run_dir" >&2; exit 2; }
command -v chromium >/dev/null || { echo "chromium not found: apt-get install -y chromium" >&2; exit 2; }
mkdir -p "$out_dir"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
for width in 1400 400; do
  # The flags keep Chromium off the network (this machine's is closed) and out of the sandbox
  # it cannot set up as root.
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile/$width" --hide-scrollbars --window-size="$width,3000" \
    --screenshot="$out_dir/report-$width.png" "file://$page" 2>/dev/null
  echo "$out_dir/report-$width.png"
done
