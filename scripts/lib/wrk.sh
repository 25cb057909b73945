# shellcheck shell=bash
# wrk measurements shared by scripts/bench and scripts/bench-ab. Source it after
# lib/common.sh; the caller defines `fail` (exit 2: the run itself failed).

# wrk_report_lua FILE: the wrk script that asks for JSON:API and prints one line of
# figures (requests, duration, errors, p50 and p99 in µs) at the end.
wrk_report_lua() {
  cat >"$1" <<'LUA'
wrk.headers["Accept"] = "application/vnd.api+json"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d socket_errors=%d status_errors=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50), latency:percentile(99)))
end
LUA
}

# wrk_measure NAME URL LUA THREADS CONNECTIONS WARMUP DURATION OUT: a warm-up, then
# the measured run (its output in OUT); sets RPS_<NAME>, P50_<NAME> and P99_<NAME>
# (ms). Any socket error or error status fails the run.
wrk_measure() {
  local name="$1" url="$2" lua="$3" threads="$4" connections="$5" warmup="$6" duration="$7"
  local out="$8" line requests duration_us sock status p50 p99
  log "$name: ${warmup}s warm-up, then ${duration}s at $connections connections"
  timeout $((warmup + 30)) wrk -t"$threads" -c"$connections" -d"${warmup}s" \
    -s "$lua" "$url" >/dev/null || fail "$name: wrk warm-up failed"
  timeout $((duration + 30)) wrk -t"$threads" -c"$connections" -d"${duration}s" \
    --timeout 5s -s "$lua" "$url" >"$out" || fail "$name: wrk failed"
  line="$(grep '^BENCH ' "$out")" || fail "$name: no figures from wrk"
  read -r requests duration_us sock status p50 p99 < <(
    sed -E 's/[a-z_0-9]+=//g; s/^BENCH //' <<<"$line")
  ((sock == 0 && status == 0)) ||
    fail "$name: $sock socket errors and $status error statuses under load"
  printf -v "RPS_$name" '%s' "$(python3 -c "print(round($requests / ($duration_us / 1e6)))")"
  printf -v "P50_$name" '%s' "$(python3 -c "print(f'{$p50 / 1000:.2f}')")"
  printf -v "P99_$name" '%s' "$(python3 -c "print(f'{$p99 / 1000:.2f}')")"
}
