#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which `Host` a request may name: the defence against DNS rebinding, where a page on another site
/// points its own name at this gateway's address and then calls the gateway as "same origin". Such a
/// request carries the attacker's name in `Host`, so only names the operator lists are served.
///
/// Always accepted: `localhost`, `HOST` when it is a name, and IP literals (a page can only send an
/// IP literal as `Host` when it was itself loaded from that address, i.e. from the gateway). A
/// request without `Host` (HTTP/1.0) is accepted too: browsers always send one.
public struct HostPolicy: Sendable {
    let names: Set<String>
    /// `*.example.com` entries, kept as `.example.com`.
    let suffixes: [String]
    let acceptsAny: Bool

    public init(_ limits: ServerLimits, listenHost: String) {
        var names: Set<String> = ["localhost"]
        var suffixes: [String] = []
        var acceptsAny = false
        for entry in limits.allowedHosts {
            let entry = Self.normalized(entry)
            if entry == "*" {
                acceptsAny = true
            } else if entry.hasPrefix("*.") {
                suffixes.append(String(entry.dropFirst()))
            } else if let (host, _) = HostHeader.split(entry) {
                names.insert(Self.normalized(host))
            }
        }
        let listen = Self.normalized(listenHost)
        if !listen.isEmpty, !Self.isIPLiteral(listen) { names.insert(listen) }
        self.names = names
        self.suffixes = suffixes
        self.acceptsAny = acceptsAny
    }

    /// Whether a request with this `Host` header (its port, if any, is ignored) is served.
    public func allows(host header: String?) -> Bool {
        guard !acceptsAny, let header else { return true }
        guard let (host, _) = HostHeader.split(header) else { return false }
        let name = Self.normalized(host)
        if names.contains(name) || Self.isIPLiteral(name) { return true }
        return suffixes.contains { name.hasSuffix($0) && name.count > $0.count }
    }

    /// Lower case, without the brackets of an IPv6 literal and the final dot of a fully qualified name.
    static func normalized(_ host: String) -> String {
        var host = HostHeader.unbracketed(host.trimmingCharacters(in: .whitespaces)).lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        return host
    }

    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// Reading a `Host` header (or the authority of an `Origin`).
enum HostHeader {
    /// `name`, `name:port`, `[v6]`, `[v6]:port` → (host without brackets, port); nil when malformed.
    static func split(_ text: String) -> (String, Int?)? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty { return (host, nil) }
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()) else { return nil }
            return (host, port)
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return (text, nil)
        case 2:
            guard let port = Int(parts[1]) else { return nil }
            return (String(parts[0]), port)
        default: return nil
        }
    }

    static func unbracketed(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }
}
