import Hummingbird

/// A generation request ready for Ollama: its body, the model it names (resolved and authorized) and
/// its translation.
struct PreparedRequest<Body: Sendable, Plan: Sendable>: Sendable {
    var body: Body
    var model: ResolvedModel
    var plan: Plan
}

/// The steps every generation route takes before Ollama is called, in this order: decode the body,
/// check what can be checked on the body alone, resolve the model it names and check the key may use
/// it, check the model can do what is asked, translate, reserve the tokens the request may use. Each
/// route supplies only its own parts.
struct RoutePreparation<Body: Decodable & Sendable, Plan: Sendable> {
    /// Checks of the body alone, before any model is looked up.
    var validate: (Body) throws -> Void = { _ in }
    var modelName: (Body) -> String
    /// What the request needs that the model may lack, refused before Ollama is called.
    var checkCapabilities: (ResolvedModel, Body) throws -> Void = { _, _ in }
    var translate: (Body, ResolvedModel) async throws -> Plan
    /// The parameters the token reservation is estimated from; nil: nothing is reserved.
    var parameters: ((Plan) -> ParameterLayer)?

    func run(_ request: inout Request, context: GatewayRequestContext, models: any ModelDirectory, maxBodyBytes: Int)
        async throws -> PreparedRequest<Body, Plan>
    {
        let body = try await request.decodeAPIBody(Body.self, limit: maxBodyBytes)
        try validate(body)
        let model = try await context.authorizedModel(named: modelName(body), in: models)
        try checkCapabilities(model, body)
        let plan = try await translate(body, model)
        if let parameters {
            try context.reserveTokens(promptBytes: request.declaredBodyBytes, parameters: parameters(plan), model: model)
        }
        return PreparedRequest(body: body, model: model, plan: plan)
    }
}

extension GatewayRequestContext {
    /// The model a request names, resolved, recorded on the ticket, and checked against the key.
    func authorizedModel(named name: String, in models: any ModelDirectory) async throws -> ResolvedModel {
        let model = try await models.resolve(name)
        ticket?.setModel(model)
        try authorize(model)
        return model
    }
}
