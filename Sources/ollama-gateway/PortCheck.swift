#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Gateway

/// Checks that the gateway can listen where it is told to, before anything is opened, so a port in
/// use is reported in plain words (which port, which setting) instead of as a socket error after a
/// half start.
enum PortCheck {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// - Parameters:
    ///   - purpose: what would listen there (`the gateway`, `the demo simulator`).
    ///   - setting: how to choose another port (`--port (PORT)`).
    static func ensureFree(host: String, port: Int, purpose: String, setting: String) throws {
        guard port != 0 else { return }  // any free port
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw Unavailable(description: "\(purpose) cannot listen on '\(host)': no such address on this machine (HOST, --host)")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { return }  // let the server itself report what is wrong
        defer { close(fd) }
        // As the server sets it: a port held only by connections closing down is free.
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 else { return }
        let code = errno
        let place = "\(host):\(port)"
        switch code {
        case EADDRINUSE:
            throw Unavailable(
                description: "\(purpose) cannot listen on \(place): the port is already in use (is another ollama-gateway "
                    + "running?). Stop it, or choose another port with \(setting).")
        case EACCES:
            throw Unavailable(
                description: "\(purpose) may not listen on \(place): ports below 1024 need privileges. Choose another port "
                    + "with \(setting).")
        case EADDRNOTAVAIL:
            throw Unavailable(
                description: "\(purpose) cannot listen on \(place): this machine has no such address (HOST, --host).")
        default:
            throw Unavailable(description: "\(purpose) cannot listen on \(place): \(String(cString: strerror(code))).")
        }
    }
}
