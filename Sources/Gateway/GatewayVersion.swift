/// The gateway's version: the one place it is written. `ollama-gateway --version`, the start-up
/// report, the trace exporter's resource and the release packaging (a `VERSION` file, checked
/// against this by a test) all read it from here.
public enum GatewayVersion {
    public static let current = "0.1.0"
}
