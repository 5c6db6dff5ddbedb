"""The bench's tables, in Markdown, from its JSON reports: results.json (make bench) and levers.json
(--levers). The bench prints them; the book's @bench and @levers blocks show them."""
from tools.bench.workers import BATCH


def hog_words(report):
    """'1 CPU-bound process' or 'N CPU-bound processes': what made the busy machine (--hogs; 1 before it existed)."""
    hogs = report.get("hogs", 1)
    return f"{hogs} CPU-bound process{'es' * (hogs > 1)}"


def table(report):
    m, sgemm = report["machine"], report["sgemm"]
    first = report["rows"][0]
    peers = list(first.get("peers", {}))
    versions = "; ".join(f"{first['peers'][p]['name']} {first['peers'][p]['version']}" for p in peers)
    lines = [f"{m['date']}, {m['cpu']}, {m['cores']} cores, Python {m['python']}; BLAS: {first['blas']}; "
             f"Theano's C code compiled for {first['isa']}; "
             f"openmp={first['flags']['openmp']}, allow_gc={first['flags']['allow_gc']}; "
             + (f"{versions}; " if peers else "")
             + f"median of {report['rounds']} fresh processes x {report['steps']} steps of {BATCH}; "
             f"this machine's SGEMM: {sgemm['gflops']:.0f} GFLOP/s ({sgemm['n']}², every core)",
             "",
             "| script | Theano ms/step | Theano busy ms/step (x quiet) | "
             + "".join(f"{first['peers'][p]['name']} ms/step | " for p in peers)
             + "Theano / fastest peer | GFLOP/step | GFLOP/s Theano (% of SGEMM) | compile cold / warm (s) "
             "| predict img/s Theano / fastest peer | peak RSS MB Theano / fastest peer |",
             "| --- | ---: | ---: | " + "---: | " * len(peers) + "---: | ---: | ---: | ---: | ---: | ---: |"]

    def rate(row, ms):
        gflops = row["gflop_per_step"] / (ms / 1000)
        return f"{gflops:.1f} ({100 * gflops / sgemm['gflops']:.0f} %)"

    for r in report["rows"]:
        fastest = r["peers"][r["fastest_peer"]] if peers else {"name": "-", "predict_img_s": "-", "peak_rss_mb": "-"}
        worst = (f"; slowest process {r['theano_worst_process_ms'] / fastest['step_ms']:.2f}"
                 if peers and "theano_worst_process_ms" in r else "")
        ratio = f"{r['ratio']:.2f} ({fastest['name']}{worst})" if peers else "-"
        predict, rss = (f"{fastest['predict_img_s']:,.0f}", f"{fastest['peak_rss_mb']:.0f}") if peers else ("-", "-")
        busy = (f"{r['theano_busy_step_ms']:.2f} ({r['theano_busy_step_ms'] / r['theano_step_ms']:.2f})"
                if "theano_busy_step_ms" in r else "-")
        lines.append(f"| {r['script']} | {r['theano_step_ms']:.2f} | {busy} | "
                     + "".join(f"{r['peers'][p]['step_ms']:.2f} | " for p in peers)
                     + f"{ratio} | {r['gflop_per_step']:.3f} | {rate(r, r['theano_step_ms'])} "
                     f"| {r['compile_cold_s']:.1f} / {r['compile_warm_s']:.1f} "
                     f"| {r['theano_predict_img_s']:,.0f} / {predict} | {r['theano_peak_rss_mb']:.0f} / {rss} |")
    compiled = [(r["script"], r["peers"][p]["first_step_s"]) for r in report["rows"] for p in peers
                if p == "torch_compile" and "first_step_s" in r["peers"][p]]
    lines.append(f"\nBusy: the same Theano step with {hog_words(report)} of the bench's own beside it.")
    if compiled:
        lines.append("PyTorch compiled, its first step (torch.compile compiling, not in its ms/step): "
                     + ", ".join(f"{s} {t:.1f} s" for s, t in compiled) + ".")
    load = report["load"]
    lines.append(f"\nLoading all of MNIST: peak RSS {load['peak_rss_mb']:.0f} MB ({load['arrays_mb']:.0f} MB of arrays).")
    return "\n".join(lines)


def levers_table(report):
    """One row per setting: Theano's ms per training step of each script, quiet, and for the thread
    settings also busy (one CPU-bound process beside it); then each row's BLAS."""
    m, rows, scripts = report["machine"], report["rows"], report["scripts"]
    lines = [f"{m['date']}, {m['cpu']}, {m['cores']} cores; Theano ms per training step of {BATCH}, "
             f"median of {report['rounds']} fresh processes x {report['steps']} steps; busy: with "
             f"{hog_words(report)} of the bench's own beside it",
             "", "| setting | " + " | ".join(scripts) + " | " + " | ".join(f"{s} busy" for s in scripts) + " |",
             "| --- |" + " ---: |" * 2 * len(scripts)]
    lines += [f"| {r['lever']} | " + " | ".join(f"{r['ms'][s]:.2f}" for s in scripts) + " | "
              + " | ".join(f"{r['busy_ms'][s]:.2f}" if s in r["busy_ms"] else "-" for s in scripts) + " |"
              for r in rows]
    lines += ["", "BLAS of each row: " + "; ".join(f"{i + 1}. {r['blas']}" for i, r in enumerate(rows))]
    return "\n".join(lines)
