import Foundation
import Visualization

/// Small helpers for the static report: escaping, number formatting, and the one page shell with its CSS.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Three significant digits, whole numbers from 1000 up (fixed formatting, so pages are byte-identical across runs).
    static func number(_ v: Float?) -> String { v.map { number(Double($0)) } ?? "–" }
    static func number(_ v: Double?) -> String {
        guard let v else { return "–" }
        return abs(v) >= 1000 ? String(format: "%.0f", v) : String(format: "%.3g", v)
    }

    /// A complete page: `root` is the relative path back to the experiment folder ("" or "../").
    /// `css` is added to the page's style sheet (pages without it keep their exact bytes).
    static func page(title: String, root: String, header: String, body: String, css extra: String = "") -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        \(css)\(extra.isEmpty ? "" : "\n" + extra)
        </style>
        </head>
        <body>
        <header class="bar"><a href="\(root)index.html">filtervis</a> <span>\(header)</span></header>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    /// The index's atlas grids (layers with many filters): small thumbnails, tightly packed.
    static let atlasCSS = """
    .thumbs.atlas { display: grid; grid-template-columns: repeat(auto-fill, 50px); gap: 4px; }
    .thumbs.atlas .thumb { width: 50px; font-size: 10px; line-height: 1.2; color: var(--muted); }
    .thumbs.atlas .thumb img { width: 50px; height: 50px; border-width: 1px; border-radius: 2px; }
    .thumbs.atlas .thumb.dead img { border: 2px solid #cf222e; }
    """

    static let css = """
    :root { --ink: #1f2328; --muted: #59636e; --line: #d8dee4; --paper: #ffffff; --wash: #f6f8fa; --accent: #0b5cad; }
    * { box-sizing: border-box; }
    body { margin: 0; background: var(--wash); color: var(--ink);
           font: 15px/1.5 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; }
    a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
    header.bar { background: #24292f; color: #e6edf3; padding: 10px 28px; font-size: 14px; }
    header.bar a { color: #fff; font-weight: 700; margin-right: 10px; }
    main { max-width: 1120px; margin: 0 auto; padding: 18px 28px 60px; }
    h1 { font-size: 26px; margin: 10px 0 2px; } h2 { font-size: 20px; margin: 30px 0 10px; padding-bottom: 4px;
    border-bottom: 1px solid var(--line); } h3 { font-size: 15px; margin: 18px 0 8px; color: var(--muted); }
    p.lead { color: var(--muted); margin: 0 0 14px; }
    section.card { background: var(--paper); border: 1px solid var(--line); border-radius: 8px; padding: 4px 18px 16px; margin: 18px 0; }
    section.card > h2:first-child { margin-top: 12px; }
    table { border-collapse: collapse; font-size: 14px; }
    th, td { text-align: left; padding: 5px 12px 5px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; padding-left: 12px; }
    code { font: 13px "DejaVu Sans Mono", monospace; background: var(--wash); padding: 0 3px; border-radius: 3px; }
    .thumbs { display: flex; flex-wrap: wrap; gap: 10px; }
    .thumb { width: 92px; font-size: 12px; color: var(--ink); text-align: center; }
    .thumb img { display: block; width: 92px; height: 92px; border-radius: 4px;
                 border: 2px solid var(--line); background: #000; }
    .thumb.dead img { border-color: #cf222e; opacity: .6; }
    .thumb .sub { display: block; color: var(--muted); font-variant-numeric: tabular-nums; }
    .row { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
    figure { margin: 0; } figcaption { font-size: 12px; color: var(--muted); margin-top: 3px; font-variant-numeric: tabular-nums; }
    .seed img { display: block; width: 176px; height: 176px; border-radius: 4px; border: 1px solid var(--line); }
    .patch img { display: block; width: 104px; height: 104px; border-radius: 4px; border: 1px solid var(--line); }
    .wide img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
    .badge { display: inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 700; vertical-align: middle; }
    .badge.alive { background: #dafbe1; color: #116329; } .badge.dead { background: #ffebe9; color: #a40e26; }
    nav.crumbs { font-size: 14px; color: var(--muted); margin-top: 4px; } nav.crumbs a { margin-right: 12px; }
    dl.defs { font-size: 13px; color: var(--muted); } dl.defs dt { font-weight: 700; color: var(--ink); margin-top: 6px; }
    dl.defs dd { margin: 0 0 0 16px; }
    ul.toc { columns: 3; padding-left: 18px; }
    """
}
