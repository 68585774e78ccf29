import Foundation

/// `GET /v1/models` body.
public struct ModelList: Sendable, Hashable, Codable {
    public struct Model: Sendable, Hashable, Codable {
        public var id: String
        public var object: String = "model"
        /// Epoch seconds.
        public var created: Int
        public var ownedBy: String

        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
        }

        public init(id: String, created: Int, ownedBy: String) {
            self.id = id
            self.created = created
            self.ownedBy = ownedBy
        }
    }

    public var object: String = "list"
    public var data: [Model]

    public init(data: [Model]) {
        self.data = data
    }
}
