import Foundation

/// What the logs and the start-up report may say of a value that can carry a secret.
enum LogRedaction {
    /// A URL without the user and password it may carry (`http://user:pass@ollama.lan` →
    /// `http://ollama.lan`): a reverse proxy in front of Ollama or a collector may take basic auth.
    static func url(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.user != nil || components.password != nil else {
            return url
        }
        components.user = nil
        components.password = nil
        return components.string ?? "(unparseable URL)"
    }
}
