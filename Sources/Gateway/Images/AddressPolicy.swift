#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Which network addresses the gateway may fetch images from on a client's behalf.
///
/// By default only public addresses: a gateway that fetched `http://169.254.169.254/` or
/// `http://localhost:11434/` for anyone with a key would be a door into the network it sits in.
/// `IMAGE_FETCH_ALLOW_PRIVATE` opens loopback and private ranges, never link-local ones: that is
/// where clouds serve instance metadata and credentials.
enum AddressPolicy {
    /// Ordered from the most to the least fetchable.
    enum Kind: Int, Comparable {
        case publicAddress
        /// Loopback, private, reserved: fetched only when the admin allows private addresses.
        case nonPublic
        /// Link-local and cloud metadata addresses, and anything that is not an address: never fetched.
        case alwaysRefused

        static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Whether an address (textual IPv4 or IPv6) is loopback, private, link-local, or otherwise not public.
    static func isNonPublic(_ address: String) -> Bool {
        kind(of: address) != .publicAddress
    }

    static func kind(of address: String) -> Kind {
        if let v4 = ipv4Bytes(address) { return kind(ipv4: v4) }
        if let v6 = ipv6Bytes(address) { return kind(ipv6: v6) }
        return .alwaysRefused  // not an address at all
    }

    static func kind(ipv6 v6: [UInt8]) -> Kind {
        let embeddedV4 = { (from: Int) in kind(ipv4: Array(v6[from..<from + 4])) }
        // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible addresses carry an IPv4 address inside.
        if v6[0..<10].allSatisfy({ $0 == 0 }) && v6[10] == 0xff && v6[11] == 0xff { return embeddedV4(12) }
        if v6.allSatisfy({ $0 == 0 }) { return .nonPublic }  // ::
        if v6[0..<15].allSatisfy({ $0 == 0 }) && v6[15] == 1 { return .nonPublic }  // ::1
        if v6[0] == 0xfe && (v6[1] & 0xc0) == 0x80 { return .alwaysRefused }  // fe80::/10 link-local
        if v6[0] == 0xfe && (v6[1] & 0xc0) == 0xc0 { return .nonPublic }  // fec0::/10 site-local (deprecated)
        // fd00:ec2::254, the instance metadata service of one large cloud over IPv6.
        if v6 == [0xfd, 0x00, 0x0e, 0xc2] + Array(repeating: 0, count: 10) + [0x02, 0x54] { return .alwaysRefused }
        if (v6[0] & 0xfe) == 0xfc { return .nonPublic }  // fc00::/7 unique local
        if v6[0] == 0xff { return .nonPublic }  // multicast
        if v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0x0d && v6[3] == 0xb8 { return .nonPublic }  // documentation
        if v6[0..<12].allSatisfy({ $0 == 0 }) { return embeddedV4(12) }  // ::a.b.c.d
        if v6[0] == 0x00 && v6[1] == 0x64 && v6[2] == 0xff && v6[3] == 0x9b { return embeddedV4(12) }  // NAT64
        // 6to4 (2002:aabb:ccdd::/48) routes to the IPv4 address a.b.c.d inside it.
        if v6[0] == 0x20 && v6[1] == 0x02 { return embeddedV4(2) }
        // Teredo (2001:0::/32): the server's IPv4 address, then the client's, bit-inverted.
        if v6[0] == 0x20 && v6[1] == 0x01 && v6[2] == 0 && v6[3] == 0 {
            let client = kind(ipv4: v6[12..<16].map { ~$0 })
            return max(embeddedV4(4), client)
        }
        return .publicAddress
    }

    static func kind(ipv4 b: [UInt8]) -> Kind {
        switch (b[0], b[1]) {
        case (169, 254): return .alwaysRefused  // link-local, cloud metadata
        case (100, 100) where b[2] == 100 && b[3] == 200: return .alwaysRefused  // another cloud's metadata service
        default: return isNonPublicIPv4(b) ? .nonPublic : .publicAddress
        }
    }

    static func isNonPublicIPv4(_ b: [UInt8]) -> Bool {
        switch (b[0], b[1]) {
        case (0, _), (10, _), (127, _): return true
        case (100, 64...127): return true  // carrier-grade NAT
        case (169, 254): return true  // link-local, cloud metadata
        case (172, 16...31): return true
        case (192, 168): return true
        case (192, 0) where b[2] == 0 || b[2] == 2: return true  // IETF, documentation
        case (198, 18...19): return true  // benchmarking
        case (198, 51) where b[2] == 100, (203, 0) where b[2] == 113: return true  // documentation
        case (224...255, _): return true  // multicast, reserved, broadcast
        default: return false
        }
    }

    static func ipv4Bytes(_ text: String) -> [UInt8]? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    static func ipv6Bytes(_ text: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    /// Resolves a host name to its addresses (blocking: call it off the event loops).
    static func resolve(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            if let sockaddr = info.pointee.ai_addr {
                if info.pointee.ai_family == AF_INET {
                    sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        var address = pointer.pointee.sin_addr
                        _ = inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
                    }
                } else if info.pointee.ai_family == AF_INET6 {
                    sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        var address = pointer.pointee.sin6_addr
                        _ = inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
                    }
                }
            }
            let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !address.isEmpty, !addresses.contains(address) { addresses.append(address) }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}
