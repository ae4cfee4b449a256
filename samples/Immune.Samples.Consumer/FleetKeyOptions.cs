using Microsoft.AspNetCore.Authentication;

namespace Immune.Samples.Consumer;

/// <summary>The options of <see cref="FleetKeyAuthentication"/>: the key (<c>Immune__FleetKey</c>).</summary>
public sealed class FleetKeyOptions : AuthenticationSchemeOptions
{
    /// <summary>Gets or sets the key; at least 16 characters.</summary>
    public string Key { get; set; } = string.Empty;
}
