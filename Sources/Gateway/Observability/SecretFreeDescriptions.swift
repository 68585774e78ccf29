import GatewayStore

// Values that hold a secret describe themselves without it. Libraries print the values they are
// handed: ServiceLifecycle logs "Starting service" with each service's description at debug level,
// and Swift's default description of a struct spells out every field of every nested value (the
// admin password, the upstream credential, tokens, a database password). With these, `LOG_LEVEL=trace`
// is as free of secrets as `info`; the logging tests check it. (StoreConfiguration does the same in
// GatewayStore.)

extension GatewayConfiguration: CustomStringConvertible {
    public var description: String {
        let database = (try? StoreConfiguration(dataDirectory: dataDirectory, databaseURL: databaseURL))?.redactedDescription
            ?? "(invalid DATABASE_URL)"
        return "GatewayConfiguration(listen: \(host):\(port), ollama: \(LogRedaction.url(ollamaURL)), database: \(database), "
            + "secrets: not shown)"
    }
}

extension AdminConfiguration: CustomStringConvertible {
    public var description: String {
        "AdminConfiguration(token: \(token == nil ? "unset" : "set"), cookieSecure: \(cookieSecure))"
    }
}

extension TracingConfiguration: CustomStringConvertible {
    public var description: String {
        "TracingConfiguration(endpoint: \(LogRedaction.url(endpoint)), headers: \(headers.count) not shown)"
    }
}

extension OllamaClient: CustomStringConvertible {
    public var description: String {
        "OllamaClient(\(LogRedaction.url(baseURL))\(authHeader == nil ? "" : ", with OLLAMA_AUTH_HEADER"))"
    }
}

extension MetricsController: CustomStringConvertible {
    public var description: String {
        "MetricsController(token: \(token == nil ? "unset" : "set"))"
    }
}
