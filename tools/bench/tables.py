"""The bench's tables, in Markdown, from its JSON reports: results.json (make bench) and levers.json
(--levers). The bench prints them; the book's @bench and @levers blocks show them."""
from tools.bench.workers import BATCH


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
             "| script | Theano ms/step | " + "".join(f"{first['peers'][p]['name']} ms/step | " for p in peers)
             + "Theano / fastest peer | GFLOP/step | GFLOP/s Theano (% of SGEMM) | compile cold / warm (s) "
             "| predict img/s Theano / fastest peer | peak RSS MB Theano / fastest peer |",
             "| --- | ---: | " + "---: | " * len(peers) + "---: | ---: | ---: | ---: | ---: | ---: |"]

    def rate(row, ms):
        gflops = row["gflop_per_step"] / (ms / 1000)
        return f"{gflops:.1f} ({100 * gflops / sgemm['gflops']:.0f} %)"

    for r in report["rows"]:
        fastest = r["peers"][r["fastest_peer"]] if peers else {"name": "-", "predict_img_s": "-", "peak_rss_mb": "-"}
        ratio = f"{r['ratio']:.2f} ({fastest['name']})" if peers else "-"
        predict, rss = (f"{fastest['predict_img_s']:,.0f}", f"{fastest['peak_rss_mb']:.0f}") if peers else ("-", "-")
        lines.append(f"| {r['script']} | {r['theano_step_ms']:.2f} | "
                     + "".join(f"{r['peers'][p]['step_ms']:.2f} | " for p in peers)
                     + f"{ratio} | {r['gflop_per_step']:.3f} | {rate(r, r['theano_step_ms'])} "
                     f"| {r['compile_cold_s']:.1f} / {r['compile_warm_s']:.1f} "
                     f"| {r['theano_predict_img_s']:,.0f} / {predict} | {r['theano_peak_rss_mb']:.0f} / {rss} |")
    load = report["load"]
    lines.append(f"\nLoading all of MNIST: peak RSS {load['peak_rss_mb']:.0f} MB ({load['arrays_mb']:.0f} MB of arrays).")
    return "\n".join(lines)


def levers_table(report):
    """One row per setting, one column per script: Theano's ms per training step; then each row's BLAS."""
    m, rows = report["machine"], report["rows"]
    scripts = [k for k in rows[0] if k not in ("lever", "env", "blas")] if rows else []
    lines = [f"{m['date']}, {m['cpu']}, {m['cores']} cores; Theano ms per training step of {BATCH}, "
             f"median of {report['rounds']} fresh processes x {report['steps']} steps",
             "", "| setting | " + " | ".join(scripts) + " |", "| --- |" + " ---: |" * len(scripts)]
    lines += [f"| {r['lever']} | " + " | ".join(f"{r[s]:.2f}" for s in scripts) + " |" for r in rows]
    lines += ["", "BLAS of each row: " + "; ".join(f"{i + 1}. {r['blas']}" for i, r in enumerate(rows))]
    return "\n".join(lines)
