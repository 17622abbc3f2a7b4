#!/usr/bin/python3
"""Does feeding hardmine's mined samples help? Runs train.py with and without feeding for
several seeds, the same steps, against one hardmine demo, and prints a Markdown table of the
held-out Recall@1 (docs/EVALUATION.md shows one run).

    mvn -B -q package -DskipTests
    /usr/bin/python3 examples/python/evaluate.py --seeds 0 1 2 3 4 --steps 1000

Starts `java -jar target/hardmine.jar demo --no-synthetic` on free ports and stops it at the
end, or uses a running hardmine with --bootstrap and --registry. Each run has a job of its own,
so no run sees another's memory. Arguments after `--` go to train.py.
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, '..', '..'))
READY = re.compile(r'hardmine demo ready: kafka=(\S+) registry=(\S+) dashboard=(\S+)')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_demo(jar, timeout=120):
    cmd = ['java', '-jar', jar, 'demo', '--no-synthetic', '--kafka-port', str(free_port()),
           '--registry-port', str(free_port()), '--http-port', str(free_port())]
    demo = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = demo.stdout.readline()
        if not line:
            break
        match = READY.match(line.strip())
        if match:
            return demo, match.group(1), match.group(2)
    demo.terminate()
    raise RuntimeError('the demo did not print its ready line within %d s' % timeout)


def train(bootstrap, registry, seed, steps, feed, job, extra):
    cmd = [sys.executable, os.path.join(HERE, 'train.py'), '--bootstrap', bootstrap, '--registry', registry,
           '--seed', str(seed), '--steps', str(steps), '--job', job] + ([] if feed else ['--no-feed']) + extra
    out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=True, timeout=3600).stdout
    return json.loads([l for l in out.splitlines() if l.startswith('SUMMARY ')][-1][len('SUMMARY '):])


def mean_sd(values):
    return '%.3f ± %.3f' % (statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0)


def main():
    argv = sys.argv[1:]
    extra = argv[argv.index('--') + 1:] if '--' in argv else []
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    ap.add_argument('--steps', type=int, default=1000)
    ap.add_argument('--jar', default=os.path.join(ROOT, 'target', 'hardmine.jar'))
    ap.add_argument('--bootstrap', help='a running hardmine\'s Kafka (no demo is started)')
    ap.add_argument('--registry', help='a running hardmine\'s schema registry')
    ap.add_argument('--out', help='also write every run\'s SUMMARY as JSON lines to this file')
    args = ap.parse_args(argv[:argv.index('--')] if '--' in argv else argv)

    demo = None
    if args.bootstrap:
        bootstrap, registry = args.bootstrap, args.registry or 'http://127.0.0.1:8081'
    else:
        demo, bootstrap, registry = start_demo(args.jar)
    run = uuid.uuid4().hex[:6]
    rows = []
    try:
        for seed in args.seeds:
            for feed in (True, False):  # alternate, so that a slow spell of the machine hits both
                s = train(bootstrap, registry, seed, args.steps, feed, 'eval-%s-s%d-%s' % (run, seed, 'feed' if feed else 'nofeed'), extra)
                rows.append(s)
                print('seed %d %-7s Recall@1 %.4f  loss %.3f -> %.3f  fed %d samples in %d steps  %.0f s'
                      % (seed, 'feed' if feed else 'no-feed', s['recall_at_1'], s['loss_first'], s['loss_last'],
                         s['fed_samples'], s['steps_with_fed'], s['seconds']), file=sys.stderr, flush=True)
                if args.out:
                    with open(args.out, 'a', encoding='utf-8') as f:
                        f.write(json.dumps(s, sort_keys=True) + '\n')
    finally:
        if demo is not None:
            demo.terminate()
            demo.wait(60)

    by = {(s['seed'], s['feed']): s for s in rows}
    print('| seed | Recall@1 without feeding | Recall@1 with feeding | difference | mined samples fed (steps) |')
    print('|---:|---:|---:|---:|---:|')
    diffs = []
    for seed in args.seeds:
        off, on = by[(seed, False)], by[(seed, True)]
        diffs.append(on['recall_at_1'] - off['recall_at_1'])
        print('| %d | %.4f | %.4f | %+.4f | %d (%d) |' % (seed, off['recall_at_1'], on['recall_at_1'], diffs[-1],
                                                         on['fed_samples'], on['steps_with_fed']))
    print('| mean ± sd | %s | %s | %+.4f ± %.4f | |' % (
        mean_sd([by[(s, False)]['recall_at_1'] for s in args.seeds]),
        mean_sd([by[(s, True)]['recall_at_1'] for s in args.seeds]),
        statistics.mean(diffs), statistics.stdev(diffs) if len(diffs) > 1 else 0.0))
    print('\nRecall@1 at initialisation: %.4f; %d steps; seeds %s; train.py %s'
          % (rows[0]['recall_at_1_init'], args.steps, ' '.join(map(str, args.seeds)), ' '.join(extra)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
