#!/usr/bin/python3
"""What helps the example's held-out Recall@1: feeding hardmine's mined triplets, a cross-batch
memory kept by the trainer (local-memory), or the memory embeddings hardmine sends back (memory)?
Runs train.py under a fixed list of conditions x seeds, the same steps, against one hardmine demo,
and prints per condition Recall@1 and seconds per step, and paired differences against reference
conditions (docs/EVALUATION.md shows one run).

    /usr/bin/python3 examples/python/evaluate.py --out runs.jsonl                 # every condition, seeds 0-4
    /usr/bin/python3 examples/python/evaluate.py --conditions families --seeds 0 1 2 --out runs.jsonl
    /usr/bin/python3 examples/python/evaluate.py --resume runs.jsonl               # go on where it stopped
    /usr/bin/python3 examples/python/evaluate.py --list                            # the conditions

Starts `java -jar target/hardmine.jar demo --no-synthetic` on free ports and stops it at the end,
or uses a running hardmine with --bootstrap and --registry. Each run is a job of its own, so no run
sees another's memory. Within a seed the conditions run one after the other (starting at another
condition for each seed), so that a slow spell of the machine hits all of them. Arguments after
`--` go to every train.py run.
"""
import argparse
import concurrent.futures
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
READY = re.compile(r'hardmine demo ready: kafka=(\S+) registry=(\S+) dashboard=(\S+)')

# Every setting a condition depends on is spelled out, so that a later change of train.py's
# defaults does not change the protocol.
MEMORY = ['--memory-size', '2048', '--memory-start', '100', '--memory-weight', '1']
MODES = {
    'none-bh': ['--feed-mode', 'none', '--loss', 'batch-hard'],
    'none-con': ['--feed-mode', 'none', '--loss', 'contrastive'],
    'triplets-bh': ['--feed-mode', 'triplets', '--loss', 'batch-hard', '--feed', '8', '--max-staleness', '50'],
    # local-memory is XBM inside the trainer in XBM's own order (research-xbm's trainer, and
    # pytorch-metric-learning's CrossBatchMemory): the batch enters the queue before its loss.
    'local-con': ['--feed-mode', 'local-memory', '--loss', 'contrastive', '--local-enqueue', 'before'] + MEMORY,
    'memory-con': ['--feed-mode', 'memory', '--loss', 'contrastive', '--max-staleness', '50',
                   '--memory-negatives', '16', '--memory-positives', '4'] + MEMORY,
    # Optional: the same memories under the batch-hard loss, and the local queue holding earlier batches only.
    'local-bh': ['--feed-mode', 'local-memory', '--loss', 'batch-hard', '--local-enqueue', 'before'] + MEMORY,
    'memory-bh': ['--feed-mode', 'memory', '--loss', 'batch-hard', '--max-staleness', '50',
                  '--memory-negatives', '16', '--memory-positives', '4'] + MEMORY,
    'local-con-after': ['--feed-mode', 'local-memory', '--loss', 'contrastive', '--local-enqueue', 'after'] + MEMORY,
}


# Random batches unless a condition says otherwise (train.py's default sampler may change).
MODES = {name: args + ['--sampler', 'random'] for name, args in MODES.items()}


def _conditions():
    """name -> {group, args, baselines (the no-feeding references), local (the local-memory reference)}."""
    out = {}

    def add(group, name, args, baselines, local, default=True):
        out[name] = {'name': name, 'group': group, 'args': args, 'baselines': baselines, 'local': local,
                     'default': default}

    one = ['--workers', '1']
    for group, prefix, setting, modes in (
            ('families', 'f16', ['--dataset', 'families', '-P', '16', '-K', '4'],
             ('none-bh', 'none-con', 'triplets-bh', 'local-con', 'memory-con')),
            ('families-8x4', 'f8', ['--dataset', 'families', '-P', '8', '-K', '4'],
             ('none-bh', 'none-con', 'local-con', 'memory-con')),
            ('glyphs', 'g16', ['--dataset', 'glyphs', '-P', '16', '-K', '4'],
             ('none-bh', 'none-con', 'local-con', 'memory-con'))):
        baselines = (prefix + '-none-bh', prefix + '-none-con')
        for mode in modes:
            add(group, '%s-%s' % (prefix, mode), setting + one + MODES[mode], baselines, prefix + '-local-con')
    for split, prefix in (('identity', 'w4id'), ('random', 'w4rnd')):
        setting = ['--dataset', 'families', '-P', '16', '-K', '4', '--workers', '4', '--split', split]
        for mode in ('none-con', 'local-con', 'memory-con'):
            add('workers', '%s-%s' % (prefix, mode), setting + MODES[mode], (prefix + '-none-con',),
                prefix + '-local-con')
    # Two workers: the same comparison, run by group name after the others.
    for split, prefix in (('identity', 'w2id'), ('random', 'w2rnd')):
        setting = ['--dataset', 'families', '-P', '16', '-K', '4', '--workers', '2', '--split', split]
        for mode in ('local-con', 'memory-con'):
            add('workers-2', '%s-%s' % (prefix, mode), setting + MODES[mode], (prefix + '-local-con',),
                prefix + '-local-con', default=False)
    # Not run unless asked for by name or group.
    setting = ['--dataset', 'families', '-P', '16', '-K', '4'] + one
    for mode in ('local-bh', 'memory-bh'):
        add('memory-batch-hard', 'f16-' + mode, setting + MODES[mode], ('f16-none-bh', 'f16-none-con'),
            'f16-local-bh', default=False)
    add('enqueue-order', 'f16-local-con-after', setting + MODES['local-con-after'], ('f16-none-bh', 'f16-none-con'),
        'f16-local-con', default=False)
    # Hard-identity batches: half groups of 4 confusable identities, half random; run by group name.
    groups = ['--random-share', '0.5', '--group-size', '4']
    for name, mode, sampler in (('f16-ident-con', 'none-con', 'neighbors'),
                                ('f16-ident-memory-con', 'memory-con', 'neighbors'),
                                ('f16-oracle-con', 'none-con', 'families')):
        add('identities', name, setting + MODES[mode][:-2] + ['--sampler', sampler] + groups,
            ('f16-none-bh', 'f16-none-con'), 'f16-local-con', default=False)
    # Confirmation on fresh seeds (5-9) of the one mode that reached +0.05 on families, on both datasets.
    add('confirm', 'g16-ident-memory-con', ['--dataset', 'glyphs', '-P', '16', '-K', '4'] + one
        + MODES['memory-con'][:-2] + ['--sampler', 'neighbors'] + groups, ('g16-none-bh', 'g16-none-con'), 'g16-local-con', default=False)
    return out


CONDITIONS = _conditions()


def select(names):
    """Condition names in protocol order, from condition and group names (none: every default condition)."""
    if not names:
        return [c for c, d in CONDITIONS.items() if d['default']]
    chosen = set()
    for n in names:
        hits = [c for c, d in CONDITIONS.items() if n in (c, d['group'])]
        if not hits:
            raise SystemExit('unknown condition or group %r; --list shows them' % n)
        chosen.update(hits)
    return [c for c in CONDITIONS if c in chosen]


def free_ports(n):
    """n different ports free a moment ago on 127.0.0.1: every probe stays open until all are found,
    so that the system cannot hand out one port twice (probes one after the other may repeat)."""
    probes = []
    try:
        for _ in range(n):
            s = socket.socket()
            probes.append(s)
            s.bind(('127.0.0.1', 0))
        return [s.getsockname()[1] for s in probes]
    finally:
        for s in probes:
            s.close()


def start_demo(jar, demo_args, timeout=180):
    kafka, registry, http = free_ports(3)
    cmd = ['java', '-jar', jar, 'demo', '--no-synthetic', '--kafka-port', str(kafka),
           '--registry-port', str(registry), '--http-port', str(http)] + demo_args
    demo = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = demo.stdout.readline()
        if not line:
            break
        match = READY.match(line.strip())
        if match:
            # Keep reading its output, or a full pipe would stall the demo.
            threading.Thread(target=lambda: [None for _ in demo.stdout], daemon=True).start()
            return demo, match.group(1), match.group(2)
    demo.terminate()
    raise RuntimeError('the demo did not print its ready line within %d s' % timeout)


def run_key(record):
    return (record.get('condition'), record.get('seed'), record.get('eval_steps'),
            tuple(record.get('condition_args') or ()), tuple(record.get('extra_args') or ()))


def train(bootstrap, registry, condition, seed, steps, job, extra, timeout):
    cmd = [sys.executable, os.path.join(HERE, 'train.py'), '--bootstrap', bootstrap, '--registry', registry,
           '--seed', str(seed), '--steps', str(steps), '--job', job] + CONDITIONS[condition]['args'] + extra
    started = time.monotonic()
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    lines = [l for l in done.stdout.splitlines() if l.startswith('SUMMARY ')]
    if done.returncode != 0 or not lines:
        raise RuntimeError('train.py exited with %d after %.0f s: %s' % (
            done.returncode, time.monotonic() - started, '\n'.join(done.stderr.strip().splitlines()[-8:])))
    summary = json.loads(lines[-1][len('SUMMARY '):])
    summary.update({'condition': condition, 'condition_args': CONDITIONS[condition]['args'], 'extra_args': extra,
                    'eval_steps': steps})
    return summary


def mean_sd(values, fmt='%.3f'):
    if not values:
        return 'n/a'
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return (fmt + ' ± ' + fmt) % (statistics.mean(values), sd)


def paired(rows, a, b, seeds):
    """Per-seed differences a - b of Recall@1 over the seeds both have."""
    return [rows[a][s]['recall_at_1'] - rows[b][s]['recall_at_1'] for s in seeds if s in rows[a] and s in rows[b]]


def report(rows, names, seeds, steps, extra, parallel):
    """rows: condition -> seed -> summary. Prints the Markdown tables."""
    print('| condition | runs | Recall@1 | seconds/step | memory used | memory samples received per worker-step | fed samples per worker-step |')
    print('|---|---:|---:|---:|---:|---:|---:|')
    warnings = []
    for c in names:
        runs = [rows[c][s] for s in seeds if s in rows.get(c, {})]
        if not runs:
            print('| %s | 0 | | | | | |' % c)
            continue
        per_step = lambda key: statistics.mean(r[key] / (r['steps'] * r['workers']) for r in runs)
        used = [r['memory_used_mean'] for r in runs if r.get('memory_used_mean') is not None]
        print('| %s | %d | %s | %s | %s | %.0f | %.1f |' % (
            c, len(runs), mean_sd([r['recall_at_1'] for r in runs]),
            mean_sd([r['seconds_per_step'] for r in runs], '%.4f'),
            '%.0f' % statistics.mean(used) if used else '-', per_step('memory_samples_received'),
            per_step('fed_samples')))
        if '--feed-mode memory' in ' '.join(CONDITIONS[c]['args']) and not all(r['memory_samples_received'] for r in runs):
            warnings.append('%s: some runs received no memory samples (a hardmine without memory sampling?)' % c)

    print('\nPaired differences of Recall@1 (per seed, condition - reference); SE = sd / sqrt(pairs). With few pairs\n'
          '"beyond 2 SE" is a rough bar, not a 95% test (Student t with 2, 4, 9 degrees of freedom: 4.3, 2.8, 2.3 SE):\n')
    print('| condition | reference | pairs | difference mean ± sd | SE | beyond 2 SE |')
    print('|---|---|---:|---:|---:|---|')
    for c in names:
        d = CONDITIONS[c]
        means = {b: statistics.mean(rows[b][s]['recall_at_1'] for s in seeds if s in rows[b])
                 for b in d['baselines'] if any(s in rows.get(b, {}) for s in seeds)}
        references = []
        if means:
            best = max(means, key=means.get)  # the better no-feeding baseline, by mean Recall@1 over the seeds run
            if best != c:
                references.append(best + ' (best baseline)')
        if d['local'] != c and c not in d['baselines'] and rows.get(d['local']):
            references.append(d['local'])
        for ref in references:
            diffs = paired(rows, c, ref.split(' ')[0], seeds)
            if not diffs:
                continue
            if len(diffs) > 1:
                sd = statistics.stdev(diffs)
                se = sd / math.sqrt(len(diffs))
                mean = statistics.mean(diffs)
                beyond = ('yes, %s' % ('higher' if mean > 0 else 'lower')) if abs(mean) > 2 * se else 'no'
                print('| %s | %s | %d | %+.4f ± %.4f | %.4f | %s |' % (c, ref, len(diffs), mean, sd, se, beyond))
            else:
                print('| %s | %s | 1 | %+.4f | n/a | n/a |' % (c, ref, diffs[0]))

    print('\n%d steps; seeds %s; train.py %s%s' % (steps, ' '.join(map(str, seeds)), ' '.join(extra) or '(no extra flags)',
                                                  '; %d runs at a time' % parallel if parallel > 1 else ''))
    init = {}
    for c in names:
        for s in seeds:
            if s in rows.get(c, {}):
                init.setdefault(rows[c][s].get('dataset', 'families'), set()).add('%.4f' % rows[c][s]['recall_at_1_init'])
    for dataset, values in sorted(init.items()):
        print('Recall@1 at initialisation, %s: %s' % (dataset, ', '.join(sorted(values))))
    for w in warnings:
        print('WARNING ' + w)


def main():
    argv = sys.argv[1:]
    extra = argv[argv.index('--') + 1:] if '--' in argv else []
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--conditions', nargs='+', metavar='NAME',
                    help='conditions or groups of them to run (default: every default condition; --list shows them)')
    ap.add_argument('--list', action='store_true', help='list the conditions and exit')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    ap.add_argument('--steps', type=int, default=1000)
    ap.add_argument('--parallel', type=int, default=1,
                    help='trainings at once, each a job of its own on the same hardmine (default %(default)s); '
                         'more than one makes seconds/step compare less well')
    ap.add_argument('--jar', default=os.path.join(ROOT, 'target', 'hardmine.jar'))
    ap.add_argument('--demo-arg', action='append', default=[], metavar='ARG',
                    help='an argument for the demo started (repeat for several)')
    ap.add_argument('--bootstrap', help='a running hardmine\'s Kafka (no demo is started)')
    ap.add_argument('--registry', help='a running hardmine\'s schema registry')
    ap.add_argument('--out', help='append every run\'s SUMMARY (with its condition) as a JSON line to this file')
    ap.add_argument('--resume', metavar='FILE',
                    help='skip the runs already in FILE (same condition, flags, seed and steps) and count them in the '
                         'tables; new runs are appended to FILE unless --out names another file')
    ap.add_argument('--run-timeout', type=float, default=7200, help='seconds one training may take (default %(default)s)')
    args = ap.parse_args(argv[:argv.index('--')] if '--' in argv else argv)

    if args.list:
        for name, d in CONDITIONS.items():
            print('%-22s %-18s %s%s' % (name, d['group'], ' '.join(d['args']), '' if d['default'] else '  (not default)'))
        return 0
    names = select(args.conditions)
    out_file = args.out or args.resume
    done = {}
    if args.resume and os.path.exists(args.resume):
        with open(args.resume, encoding='utf-8') as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    done[run_key(record)] = record
    rows = {c: {} for c in names}
    todo = []
    for i, seed in enumerate(args.seeds):
        k = i % len(names)
        for c in names[k:] + names[:k]:  # another first condition for each seed
            key = (c, seed, args.steps, tuple(CONDITIONS[c]['args']), tuple(extra))
            if key in done:
                rows[c][seed] = done[key]
            else:
                todo.append((c, seed))
    print('%d runs to do, %d already in %s' % (len(todo), sum(len(r) for r in rows.values()), args.resume),
          file=sys.stderr, flush=True)

    demo = None
    failures = []
    lock = threading.Lock()
    run = uuid.uuid4().hex[:6]
    try:
        if todo:
            if args.bootstrap:
                bootstrap, registry = args.bootstrap, args.registry or 'http://127.0.0.1:8081'
            else:
                demo, bootstrap, registry = start_demo(args.jar, args.demo_arg)

        def one(c, seed):
            s = train(bootstrap, registry, c, seed, args.steps, 'eval-%s-%s-s%d' % (run, c, seed), extra,
                      args.run_timeout)
            with lock:
                rows[c][seed] = s
                if out_file:
                    with open(out_file, 'a', encoding='utf-8') as f:
                        f.write(json.dumps(s, sort_keys=True) + '\n')
                print('seed %d %-18s Recall@1 %.4f  loss %.3f -> %.3f  %.4f s/step  fed %d  memory used %s  '
                      'memory samples %d  %.0f s' % (
                          seed, c, s['recall_at_1'], s['loss_first'], s['loss_last'], s['seconds_per_step'],
                          s['fed_samples'], '%.0f' % s['memory_used_mean'] if s['memory_used_mean'] is not None else '-',
                          s['memory_samples_received'], s['seconds']), file=sys.stderr, flush=True)

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.parallel)) as pool:
            futures = {pool.submit(one, c, seed): (c, seed) for c, seed in todo}
            for future in concurrent.futures.as_completed(futures):
                try:
                    future.result()
                except Exception as e:  # pylint: disable=broad-except
                    c, seed = futures[future]
                    failures.append((c, seed, str(e)))
                    print('seed %d %s FAILED: %s' % (seed, c, e), file=sys.stderr, flush=True)
    finally:
        if demo is not None:
            demo.terminate()
            demo.wait(60)

    report(rows, names, args.seeds, args.steps, extra, args.parallel)
    for c, seed, e in failures:
        print('FAILED seed %d %s: %s' % (seed, c, e.splitlines()[0] if e else ''))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
