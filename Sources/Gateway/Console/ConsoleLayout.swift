import Foundation
import HTTPTypes
import Hummingbird

/// The sections of the console, in the order of its navigation.
enum ConsoleSection: String, CaseIterable, Sendable {
    case overview, keys, models, backends, requests, playground, settings, audit

    var title: String {
        switch self {
        case .overview: "Overview"
        case .keys: "API keys"
        case .models: "Models"
        case .backends: "Backends"
        case .requests: "Requests"
        case .playground: "Playground"
        case .settings: "Settings"
        case .audit: "Audit log"
        }
    }

    var path: String { self == .overview ? "\(ConsoleURL.root)/" : "\(ConsoleURL.root)/\(rawValue)" }
}

/// The one layout of every console page.
enum ConsoleLayout {
    static let assetVersion = "2"

    static func head(_ title: String) -> HTML {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>\(title) · Ollama Gateway</title>
        <link rel="stylesheet" href="/admin/assets/console.css?v=\(assetVersion)">
        <link rel="icon" href="data:,">
        <script src="/admin/assets/console.js?v=\(assetVersion)" defer></script>
        </head>
        """
    }

    /// A page of a signed-in administrator: navigation, sign-out, the page's content.
    static func page(
        _ title: String, section: ConsoleSection?, user: ConsoleUser, notice: HTML? = nil, status: HTTPResponse.Status = .ok,
        _ content: HTML
    ) -> Response {
        let links = ConsoleSection.allCases.map { item -> HTML in
            item == section
                ? "<li><a href=\"\(item.path)\" aria-current=\"page\">\(item.title)</a></li>"
                : "<li><a href=\"\(item.path)\">\(item.title)</a></li>"
        }
        return ConsoleHTTP.html(
            """
            \(head(title))
            <body data-csrf="\(user.csrfToken)">
            <a class="skip" href="#main">Skip to content</a>
            <header class="top">
            <a class="brand" href="/admin/"><span class="logo" aria-hidden="true">◆</span> Ollama Gateway</a>
            <nav aria-label="Main"><ul>\(links)</ul></nav>
            <div class="account">
            <a href="/admin/password" title="Change password">\(user.account.username)</a>
            <form method="post" action="/admin/logout">\(csrfField(user))<button type="submit" class="link">Sign out</button></form>
            </div>
            </header>
            <main id="main">
            <h1>\(title)</h1>
            \(notice.map { n -> HTML in "<p class=\"notice\" role=\"status\">\(n)</p>" })
            \(content)
            </main>
            </body>
            </html>
            """, status: status)
    }

    /// A page outside the signed-in area: the login, the forced password change, errors.
    static func bare(_ title: String, status: HTTPResponse.Status = .ok, csrf: String? = nil, _ content: HTML) -> Response {
        ConsoleHTTP.html(
            """
            \(head(title))
            <body class="bare"\(csrf.map { c -> HTML in " data-csrf=\"\(c)\"" })>
            <main id="main" class="narrow">
            <p class="brand"><span class="logo" aria-hidden="true">◆</span> Ollama Gateway</p>
            <h1>\(title)</h1>
            \(content)
            </main>
            </body>
            </html>
            """, status: status)
    }

    static func errorPage(status: HTTPResponse.Status, title: String, message: String) -> Response {
        bare(title, status: status, "<p class=\"error\" role=\"alert\">\(message)</p><p><a href=\"/admin/\">Back to the console</a></p>")
    }

    /// The page that asks before something that cannot be undone: a form posting to `action`.
    static func confirmation(
        _ title: String, section: ConsoleSection, user: ConsoleUser, message: HTML, action: String, button: String,
        cancel: String, fields: HTML = .empty
    ) -> Response {
        page(
            title, section: section, user: user,
            """
            <div class="card narrow">
            <p>\(message)</p>
            <form method="post" action="\(action)" class="actions">
            \(csrfField(user))
            \(fields)
            <button type="submit" class="danger">\(button)</button>
            <a href="\(cancel)">Cancel</a>
            </form>
            </div>
            """)
    }

    static func csrfField(_ user: ConsoleUser) -> HTML {
        "<input type=\"hidden\" name=\"_csrf\" value=\"\(user.csrfToken)\">"
    }

    /// A labelled input with its error (announced, and tied to the field) and hint.
    static func field(
        _ name: String, label: String, value: String? = nil, type: String = "text", error: String? = nil, hint: String? = nil,
        required: Bool = false, extra: HTML = .empty
    ) -> HTML {
        let id = "f-\(name)"
        let described = [error.map { _ in "\(id)-error" }, hint.map { _ in "\(id)-hint" }].compactMap { $0 }.joined(separator: " ")
        let describedBy: HTML = described.isEmpty ? .empty : " aria-describedby=\"\(described)\""
        let invalid: HTML = error == nil ? .empty : " aria-invalid=\"true\""
        let requiredAttribute: HTML = required ? " required" : .empty
        return """
            <div class="field"><label for="\(id)">\(label)</label>\
            <input id="\(id)" name="\(name)" type="\(type)" value="\(value ?? "")"\(describedBy)\(invalid)\(requiredAttribute)\(extra)>\
            \(hint.map { h -> HTML in "<p class=\"hint\" id=\"\(id)-hint\">\(h)</p>" })\
            \(error.map { e -> HTML in "<p class=\"field-error\" id=\"\(id)-error\">\(e)</p>" })</div>
            """
    }

    static func textarea(
        _ name: String, label: String, value: String, error: String? = nil, hint: String? = nil, rows: Int = 8,
        warnings: [String] = []
    ) -> HTML {
        let id = "f-\(name)"
        let described = [error.map { _ in "\(id)-error" }, hint.map { _ in "\(id)-hint" }, warnings.isEmpty ? nil : "\(id)-warnings"]
            .compactMap { $0 }.joined(separator: " ")
        let describedBy: HTML = described.isEmpty ? .empty : " aria-describedby=\"\(described)\""
        let invalid: HTML = error == nil ? .empty : " aria-invalid=\"true\""
        let warningList: HTML? = warnings.isEmpty
            ? nil
            : "<ul class=\"field-warnings\" id=\"\(id)-warnings\">\(warnings.map { w -> HTML in "<li>\(w)</li>" })</ul>"
        return """
            <div class="field"><label for="\(id)">\(label)</label>\
            <textarea id="\(id)" name="\(name)" rows="\(rows)" spellcheck="false"\(describedBy)\(invalid)>\(value)</textarea>\
            \(hint.map { h -> HTML in "<p class=\"hint\" id=\"\(id)-hint\">\(h)</p>" })\
            \(error.map { e -> HTML in "<p class=\"field-error\" id=\"\(id)-error\">\(e)</p>" })\(warningList)</div>
            """
    }

    static func checkbox(_ name: String, label: String, checked: Bool) -> HTML {
        let state: HTML = checked ? " checked" : .empty
        return "<div class=\"field check\"><input id=\"f-\(name)\" name=\"\(name)\" type=\"checkbox\" value=\"on\"\(state)><label for=\"f-\(name)\">\(label)</label></div>"
    }

    static func select(_ name: String, label: String, options: [(value: String, label: String)], selected: String?) -> HTML {
        let items = options.map { option -> HTML in
            option.value == (selected ?? "")
                ? "<option value=\"\(option.value)\" selected>\(option.label)</option>"
                : "<option value=\"\(option.value)\">\(option.label)</option>"
        }
        return "<div class=\"field\"><label for=\"f-\(name)\">\(label)</label><select id=\"f-\(name)\" name=\"\(name)\">\(items)</select></div>"
    }

    /// A form-level error summary.
    static func errorSummary(_ message: String?) -> HTML {
        guard let message else { return .empty }
        return "<p class=\"error\" role=\"alert\">\(message)</p>"
    }

    /// A table in a horizontally scrolling frame, with a caption for screen readers.
    static func table(caption: String, headers: [String], rows: [HTML], empty: String) -> HTML {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(empty)</p>" }
        let head = headers.map { h -> HTML in "<th scope=\"col\">\(h)</th>" }
        return """
            <div class="table-wrap" tabindex="0" role="region" aria-label="\(caption)"><table>\
            <caption class="visually-hidden">\(caption)</caption><thead><tr>\(head)</tr></thead>\
            <tbody>\(rows)</tbody></table></div>
            """
    }

    static func badge(_ text: String, tone: String) -> HTML {
        "<span class=\"badge \(tone)\">\(text)</span>"
    }
}

/// How the console writes numbers, times and sizes.
enum ConsoleFormat {
    /// `1,234,567`: the same on every server, whatever its locale.
    static func number(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return value < 0 ? "-" + grouped : grouped
    }

    static func compact(_ value: Int) -> String {
        switch abs(value) {
        case 0..<10_000: return number(value)
        case 10_000..<1_000_000: return String(format: "%.1fk", Double(value) / 1000)
        case 1_000_000..<1_000_000_000: return String(format: "%.1fM", Double(value) / 1_000_000)
        default: return String(format: "%.1fG", Double(value) / 1_000_000_000)
        }
    }

    static func milliseconds(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        return value >= 10_000 ? String(format: "%.1f s", value / 1000) : String(format: "%.0f ms", value)
    }

    static func bytes(_ value: Int64?) -> String {
        guard let value else { return "–" }
        return ByteCountFormatter.string(fromByteCount: value, countStyle: .binary)
    }

    /// `2030-01-31 12:00:00 UTC`.
    static func time(_ date: Date?) -> String {
        guard let date else { return "–" }
        return date.formatted(Date.ISO8601FormatStyle()).replacingOccurrences(of: "T", with: " ")
            .replacingOccurrences(of: "Z", with: " UTC")
    }

    static func percent(_ value: Double) -> String {
        String(format: "%.1f%%", value * 100)
    }
}
