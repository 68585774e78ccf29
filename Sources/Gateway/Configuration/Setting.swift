/// One setting, declared once: its environment name, its flag when it has one, its default and its
/// help. The configuration's property takes its initial value from here, the reader falls back to it,
/// `serve --help` shows it, and the list of environment names is made of these declarations.
public struct Setting<Value: Sendable>: Sendable {
    /// The environment name (also the `.env` name).
    public let name: String
    /// The long flag without its dashes (`ollama-url`), for the settings `serve` takes on the command line.
    public let flag: String?
    public let defaultValue: Value
    /// What the setting does, as `--help` says it.
    public let help: String
    /// The whole numbers accepted, for numbers and durations (in the duration's unit).
    let range: ClosedRange<Int>?
    /// A duration's unit: the number in the environment counts these.
    let unit: Duration
    /// Never logged or shown in a configuration dump.
    let isSecret: Bool
    /// The default as `--help` words it; nil when it is not worth saying (an unset secret, an off flag).
    let shownDefault: String?

    init(
        name: String, flag: String?, defaultValue: Value, help: String, range: ClosedRange<Int>? = nil,
        unit: Duration = .zero, isSecret: Bool = false, shownDefault: String?
    ) {
        self.name = name
        self.flag = flag
        self.defaultValue = defaultValue
        self.help = help
        self.range = range
        self.unit = unit
        self.isSecret = isSecret
        self.shownDefault = shownDefault
    }

    /// `--help`'s text for the flag: the help, then the environment name and the default.
    public var flagHelp: String {
        "\(help) (\(name)\(shownDefault.map { ", default \($0)" } ?? ""))."
    }

    /// The setting without its type, for lists.
    public var summary: SettingDescription {
        SettingDescription(name: name, flag: flag, help: help, shownDefault: shownDefault)
    }
}

/// A setting's name, flag, help and default, whatever its type.
public struct SettingDescription: Sendable, Hashable {
    public let name: String
    public let flag: String?
    public let help: String
    public let shownDefault: String?
}

extension Setting where Value == String {
    init(_ name: String, flag: String? = nil, default value: String, help: String) {
        self.init(name: name, flag: flag, defaultValue: value, help: help, shownDefault: value)
    }
}

extension Setting where Value == String? {
    /// A setting that is unset by default.
    init(_ name: String, flag: String? = nil, isSecret: Bool = false, help: String) {
        self.init(name: name, flag: flag, defaultValue: nil, help: help, isSecret: isSecret, shownDefault: nil)
    }
}

extension Setting where Value == Int {
    init(_ name: String, flag: String? = nil, default value: Int, in range: ClosedRange<Int>, help: String) {
        self.init(name: name, flag: flag, defaultValue: value, help: help, range: range, shownDefault: String(value))
    }
}

extension Setting where Value == Bool {
    init(_ name: String, flag: String? = nil, default value: Bool, help: String) {
        // A flag is off unless given: its default goes without saying.
        self.init(
            name: name, flag: flag, defaultValue: value, help: help, shownDefault: flag == nil ? String(value) : nil)
    }
}

extension Setting where Value == Duration {
    /// A duration written as a whole number of milliseconds (`…_MS`).
    static func milliseconds(
        _ name: String, default value: Int, in range: ClosedRange<Int> = 1...SettingsReader.maxMilliseconds,
        help: String
    ) -> Setting {
        Setting(
            name: name, flag: nil, defaultValue: .milliseconds(value), help: help, range: range,
            unit: .milliseconds(1), shownDefault: String(value))
    }

    /// A duration written as a whole number of seconds (`…_S`).
    static func seconds(
        _ name: String, default value: Int, in range: ClosedRange<Int> = 1...SettingsReader.maxSeconds, help: String
    ) -> Setting {
        Setting(
            name: name, flag: nil, defaultValue: .seconds(value), help: help, range: range, unit: .seconds(1),
            shownDefault: String(value))
    }
}

extension Setting where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of a fixed set of words.
    init(_ name: String, flag: String? = nil, default value: Value, help: String) {
        self.init(name: name, flag: flag, defaultValue: value, help: help, shownDefault: value.rawValue)
    }
}
