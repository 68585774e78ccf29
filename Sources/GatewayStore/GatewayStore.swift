/// Every repository over one open database: what the gateway passes to its routes and services.
public struct GatewayStore: Sendable {
    public let database: GatewayDatabase
    public let apiKeys: APIKeyRepository
    public let adminAccounts: AdminAccountRepository
    public let sessions: SessionRepository
    public let loginAttempts: LoginAttemptRepository
    public let settings: SettingsRepository
    public let modelSettings: ModelSettingsRepository
    public let auditLog: AuditLogRepository
    public let rateLimits: RateLimitRepository
    /// Per-request accounting: the usage log and its hourly and daily roll-ups.
    public let usage: UsageRepository
    /// Stored responses of the Responses API.
    public let responses: ResponseRepository
    /// The backends (Ollama servers) defined from the admin API.
    public let backends: BackendRepository

    public init(
        database: GatewayDatabase,
        passwordHasher: PasswordHasher = PasswordHasher(),
        sessionPolicy: SessionPolicy = SessionPolicy()
    ) {
        self.database = database
        self.apiKeys = APIKeyRepository(database: database)
        self.adminAccounts = AdminAccountRepository(database: database, hasher: passwordHasher)
        self.sessions = SessionRepository(database: database, policy: sessionPolicy)
        self.loginAttempts = LoginAttemptRepository(database: database)
        self.settings = SettingsRepository(database: database)
        self.modelSettings = ModelSettingsRepository(database: database)
        self.auditLog = AuditLogRepository(database: database)
        self.rateLimits = RateLimitRepository(database: database)
        self.usage = UsageRepository(database: database)
        self.responses = ResponseRepository(database: database)
        self.backends = BackendRepository(database: database)
    }
}
