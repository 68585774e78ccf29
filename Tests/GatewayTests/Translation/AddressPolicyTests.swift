import Testing

@testable import Gateway

@Suite struct AddressPolicyTests {
    @Test("non-public addresses", arguments: [
        "127.0.0.1", "127.9.9.9", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "0.0.0.0",
        "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "::ffff:127.0.0.1",
        "::ffff:10.0.0.1", "ff02::1", "not-an-address", "fec0::1", "feff::1", "2002:7f00:1::1", "2002:a9fe:a9fe::1",
        "2002:c0a8:0101::1", "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:0:a9fe:a9fe::1", "fd00:ec2::254",
        "100.100.100.200",
    ])
    func nonPublic(address: String) {
        #expect(AddressPolicy.isNonPublic(address))
    }

    @Test("public addresses", arguments: ["8.8.8.8", "1.1.1.1", "172.32.0.1", "93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8"])
    func isPublic(address: String) {
        #expect(!AddressPolicy.isNonPublic(address))
    }

    @Test("never fetched, even with private addresses allowed", arguments: [
        "169.254.169.254", "169.254.0.1", "fe80::1", "::ffff:169.254.169.254", "fd00:ec2::254", "2002:a9fe:a9fe::1",
        "64:ff9b::a9fe:a9fe", "2001:0:4136:e378:8000:63bf:5601:5601", "100.100.100.200", "not-an-address",
    ])
    func alwaysRefused(address: String) {
        #expect(AddressPolicy.kind(of: address) == .alwaysRefused)
    }

    @Test("6to4 and Teredo with public addresses inside are public", arguments: [
        "2002:0808:0808::1", "2001:0:0808:0808:8000:63bf:f7f7:f7f7",
    ])
    func tunnelsToPublicAddresses(address: String) {
        #expect(AddressPolicy.kind(of: address) == .publicAddress)
    }

    @Test func resolvesLocalhost() {
        #expect(AddressPolicy.resolve("localhost").contains { $0 == "127.0.0.1" || $0 == "::1" })
    }
}
