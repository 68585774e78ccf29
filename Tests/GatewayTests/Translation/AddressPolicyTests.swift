import Testing

@testable import Gateway

@Suite struct AddressPolicyTests {
    @Test("non-public addresses", arguments: [
        "127.0.0.1", "127.9.9.9", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "0.0.0.0",
        "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "::ffff:127.0.0.1",
        "::ffff:10.0.0.1", "ff02::1", "not-an-address",
    ])
    func nonPublic(address: String) {
        #expect(AddressPolicy.isNonPublic(address))
    }

    @Test("public addresses", arguments: ["8.8.8.8", "1.1.1.1", "172.32.0.1", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"])
    func isPublic(address: String) {
        #expect(!AddressPolicy.isNonPublic(address))
    }

    @Test func resolvesLocalhost() {
        #expect(AddressPolicy.resolve("localhost").contains { $0 == "127.0.0.1" || $0 == "::1" })
    }
}
