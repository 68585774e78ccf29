import Gateway
import Logging
import ServiceLifecycle

extension GatewayRunner {
    /// In demo mode, the simulator runs in-process and becomes the upstream.
    static func demoServices(_ configuration: inout GatewayConfiguration, logger: Logger) -> [any Service] {
        guard configuration.demo else { return [] }
        return []
    }
}
