#!/usr/bin/env bash
# make test-slurm: the Slurm job array of Experiments/README.md, on a real one-node Slurm started here.
#
# Installs Debian's slurm-wlm and munge when missing (as root), writes a slurm.conf for this machine and a munge key
# under a temporary folder, starts munged, slurmctld and slurmd on loopback with their own sockets, ports, pid and
# log files, and submits exactly Experiments/slurm/array.sbatch and merge.sbatch (the files README.md shows) with a
# small config. Checks: the merged tree equals one unsharded run byte for byte (timing files and manifest.json's
# timings apart); a task cancelled mid-way (scancel) and resubmitted (sbatch --array=K) skips the units it had
# finished (their done-records and timing files untouched); every daemon started here is stopped at the end, also
# when a check fails. Usage: Scripts/test-slurm.sh [FILTERVIS_BINARY]   (KEEP=1 keeps the temporary folder)
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=$(realpath "${1:-.build/release/filtervis}")
[[ -x $bin ]] || { echo "test-slurm: $bin is not built (run: make build)" >&2; exit 2; }
Scripts/ensure-apt.sh slurm-wlm munge || exit 1

# The scripts submitted below are the ones Experiments/README.md shows (also checked by ExperimentDocsTests).
readme_block() { awk -v marker="<!-- file: $1 -->" '$0 == marker { getline; on = 1; next } on && /^```$/ { exit } on' Experiments/README.md; }
for f in Experiments/slurm/array.sbatch Experiments/slurm/merge.sbatch; do
    cmp -s <(readme_block "$f") "$f" || { echo "test-slurm: Experiments/README.md's block for $f differs from the file" >&2; exit 1; }
done

passed=0 failed=0
pass() { echo "ok   $*"; passed=$((passed + 1)); }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
check() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
say() { echo "test-slurm: $*"; }

tmp=$(mktemp -d /tmp/filtervis-slurm.XXXXXX)
chmod 755 "$tmp"
daemons=()   # pids of the daemons started here

# Cancels our jobs (so no job step outlives the daemons), then stops the daemons started here, newest first.
cleanup() {
    if [[ ${#daemons[@]} -gt 0 ]]; then
        local jobs
        jobs=$(squeue -h -o %i 2>/dev/null | tr '\n' ' ')
        if [[ -n ${jobs// /} ]]; then
            scancel --full $jobs 2>/dev/null
            for _ in $(seq 50); do [[ -z $(squeue -h -o %i 2>/dev/null) ]] && break; sleep 0.2; done
        fi
        for (( i = ${#daemons[@]} - 1; i >= 0; i-- )); do kill -TERM "${daemons[i]}" 2>/dev/null; done
        for pid in "${daemons[@]}"; do
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
            wait "$pid" 2>/dev/null
        done
        stopped=("${daemons[@]}")
        daemons=()
    fi
    [[ ${KEEP:-0} == 1 ]] || rm -rf "$tmp"
}
trap 'cleanup' EXIT
trap 'exit 130' INT TERM

# Free TCP ports on loopback.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits up to $1 seconds for the command to succeed.
wait_for() {
    local limit=$1; shift
    local deadline=$((SECONDS + limit))
    until "$@"; do (( SECONDS >= deadline )) && return 1; sleep 0.5; done
}

# --- munge and slurm -----------------------------------------------------------------------------------------
mkdir -p "$tmp"/{munge,state,spool,log,logs,run}
chmod 755 "$tmp/munge"   # clients need to reach the socket; the key itself is 0400
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
socket=$tmp/munge/munge.socket
munged --foreground --force --socket="$socket" --key-file="$tmp/munge/munge.key" --pid-file="$tmp/run/munged.pid" \
    --log-file="$tmp/log/munged.log" --seed-file="$tmp/munge/munged.seed" > "$tmp/log/munged.out" 2>&1 &
daemons+=($!)
wait_for 20 test -S "$socket" || { fail "munged starts (log: $(tail -3 "$tmp/log/munged.log" 2>/dev/null))"; exit 1; }
check "munge credentials round-trip" bash -c "munge -n -S '$socket' | unmunge -S '$socket' >/dev/null"

node=$(hostname -s)
cpus=$(nproc)
memory=$(free -m | awk '/^Mem:/ { print int($2 * 0.9) }')
user=$(id -un)
export SLURM_CONF=$tmp/slurm.conf
cat > "$SLURM_CONF" <<EOF
# One-node test cluster for filtervis (Scripts/test-slurm.sh); everything on loopback, everything under $tmp.
ClusterName=filtervis-test
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SrunPortRange=$(p=$(free_port); echo "$p-$((p + 20))")
CommunicationParameters=NoInAddrAny
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
SlurmUser=$user
SlurmdUser=root
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
MpiDefault=none
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=600
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -c -f "$SLURM_CONF" > "$tmp/log/slurmctld.out" 2>&1 &
daemons+=($!)
slurmd -D -f "$SLURM_CONF" -N "$node" > "$tmp/log/slurmd.out" 2>&1 &
daemons+=($!)
node_idle() { [[ $(sinfo -h -N -o %t 2>/dev/null | head -1) == idle ]]; }
if wait_for 60 node_idle; then pass "slurmctld and slurmd up, node $node idle ($cpus CPUs, ${memory} MB)"; else
    fail "node $node idle within 60 s: sinfo says '$(sinfo -h -N -o %t 2>&1)'"
    tail -5 "$tmp/log/slurmctld.log" "$tmp/log/slurmd.log" 2>/dev/null
    exit 1
fi

# --- the experiment ------------------------------------------------------------------------------------------
photos=$tmp/photos
mkdir -p "$photos"
for p in Aqua.jpg Blinds.jpg Dune.jpg Garden.jpg; do cp "${FILTERVIS_CACHE:-$HOME/.cache/filtervis}/photos/$p" "$photos/"; done
config=$tmp/slurm-small.json5
cat > "$config" <<EOF
// The Slurm test's experiment: 8 filter units of a few seconds each and 2 patch units; shard 0 of 4 gets 3 units.
{
  name: 'slurm-small',
  model: 'alexnet',
  layers: ['conv2'],
  filters: '0-7',
  preset: 'keras2016',
  overrides: {size: 160, steps: 600},  // about 3 s per filter: long enough to cancel a task between units
  batch: 1,
  photos: '$photos',
  patches: {top: 3, imagesPerUnit: 2, cropSize: 32},
}
EOF

# sha256 of every file but timing files; manifest.json without its timings (all that differs between runs).
digest() {
    ( cd "$1" && find . -type f ! -name '*.timing.json' | LC_ALL=C sort | while read -r f; do
        if [[ $f == ./manifest.json ]]; then
            python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); m.pop("timings"); print(json.dumps(m, sort_keys=True))' "$f" | sha256sum | sed "s|-|$f|"
        else sha256sum "$f"; fi
    done )
}
same_tree() { diff <(digest "$1") <(digest "$2") > "$tmp/tree.diff"; }

say "reference: one unsharded run"
"$bin" run "$config" --out "$tmp/reference" --threads 1 2> "$tmp/logs/reference.log" \
    || { fail "unsharded reference run ($(tail -2 "$tmp/logs/reference.log"))"; exit 1; }

job_state() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# Every task of job $1 has left the queue's live states.
job_over() { local s; s=$(job_state "$1"); [[ -n $s && ! $s =~ (PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED) ]]; }
submit() { sbatch --parsable --cpus-per-task=1 --output="$tmp/logs/%x-%A_%a.out" "$@"; }
array=Experiments/slurm/array.sbatch merge=Experiments/slurm/merge.sbatch

# --- 1. array + dependent merge == one run --------------------------------------------------------------------
say "array of 4 shards and a dependent merge job"
out1=$tmp/out1
job=$(submit --array=0-3 "$array" "$config" 4 "$out1")
mjob=$(submit --dependency=afterok:"$job" "$merge" "$out1")
if wait_for 240 job_over "$mjob"; then
    check "all array tasks completed" test "$(job_state "$job")" == COMPLETED
    check "merge job (afterok) completed" test "$(job_state "$mjob")" == COMPLETED
    check "merged tree equals the unsharded run byte for byte" same_tree "$tmp/reference" "$out1"
    check "no temporary files or locks left" test -z "$(find "$out1" -name '.*')"
else
    fail "array and merge finished within 240 s (states: $(job_state "$job") / $(job_state "$mjob"))"
fi

# --- 2. cancel a task mid-way, resubmit it: finished units are skipped -----------------------------------------
say "cancel task 0 after its first unit, resubmit it with --array=0"
out2=$tmp/out2
job=$(submit --array=0-3 "$array" "$config" 4 "$out2")
log0=$tmp/logs/filtervis-${job}_0.out
finished_units() { awk '/^\[[0-9]+\/[0-9]+\] / { unit = $2 } /^  finished in/ { print unit }' "$1" 2>/dev/null; }
task0_started() { [[ -n $(finished_units "$log0") ]]; }
if wait_for 180 task0_started; then
    scancel "${job}_0"
    wait_for 240 job_over "$job"
    state0=$(scontrol -o show job "${job}_0" | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
    done_before=$(finished_units "$log0")
    check "task 0 was cancelled mid-way ($state0, $(echo "$done_before" | wc -l) of 3 units done)" \
        bash -c "[[ $state0 == CANCELLED && $(echo "$done_before" | wc -l) -lt 3 ]]"
    declare -A timing_before
    for unit in $done_before; do timing_before[$unit]=$(sha256sum < "$out2/units/$unit.timing.json"); done
    again=$(submit --array=0 "$array" "$config" 4 "$out2")
    mjob=$(submit --dependency=afterok:"$again" "$merge" "$out2")
    if wait_for 240 job_over "$mjob"; then
        log0b=$tmp/logs/filtervis-${again}_0.out
        check "resubmitted task and merge completed" test "$(job_state "$again") $(job_state "$mjob")" == "COMPLETED COMPLETED"
        resumed_ok=true
        for unit in $done_before; do
            grep -q "] $unit: done already, skipped" "$log0b" || { echo "  $unit was not skipped"; resumed_ok=false; }
            [[ $(sha256sum < "$out2/units/$unit.timing.json") == "${timing_before[$unit]}" ]] \
                || { echo "  $unit's timing file changed: it was recomputed"; resumed_ok=false; }
            ! finished_units "$log0b" | grep -qx "$unit" || { echo "  $unit computed again"; resumed_ok=false; }
        done
        check "resubmitted task skips the $(echo "$done_before" | wc -w) unit(s) it had finished" $resumed_ok
        check "resubmitted task computes the rest" test -n "$(finished_units "$log0b")"
        check "merged tree after the resume equals the unsharded run" same_tree "$tmp/reference" "$out2"
        check "no temporary files or locks left after the cancel" test -z "$(find "$out2" -name '.*')"
    else
        fail "resubmitted task and merge finished within 240 s"
    fi
else
    fail "task 0 finished a unit within 180 s ($(tail -2 "$log0" 2>/dev/null))"
fi
[[ -s $tmp/tree.diff ]] && { echo "differences:"; head -20 "$tmp/tree.diff"; }

# --- 3. the daemons are gone ---------------------------------------------------------------------------------
trap - EXIT
started=("${daemons[@]}")
cleanup
alive=()
for pid in "${started[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
check "munged, slurmctld and slurmd stopped" test ${#alive[@]} -eq 0
echo "test-slurm: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
