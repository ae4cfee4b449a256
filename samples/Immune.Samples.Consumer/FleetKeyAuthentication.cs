using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Immune.Samples.Consumer;

/// <summary>
/// One shared key in front of the fleet page, its JSON and <c>/metrics</c>: a browser signs in through its own
/// Basic prompt (any user name, the key as the password), a script or Prometheus sends <c>Authorization: Bearer
/// &lt;key&gt;</c>. An anonymous request gets a 401 that says how to sign in. Stand-in for your own scheme (OIDC,
/// a reverse proxy's sign-in): the fleet's routes take whatever <c>.RequireAuthorization()</c> is given.
/// </summary>
public sealed class FleetKeyAuthentication(IOptionsMonitor<FleetKeyOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<FleetKeyOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "FleetKey";

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out AuthenticationHeaderValue? header) || header.Parameter is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        string? offered = header.Scheme.ToUpperInvariant() switch
        {
            "BEARER" => header.Parameter,
            "BASIC" => Password(header.Parameter),
            _ => null,
        };
        if (offered is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(offered), Encoding.UTF8.GetBytes(Options.Key)))
        {
            return Task.FromResult(AuthenticateResult.Fail("The fleet key does not match."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "on-call")], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Basic realm=\"Immune fleet\", charset=\"UTF-8\"";
        await Results.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Sign in to see the fleet",
            detail: "Sign in with any user name and the fleet key as the password (a browser asks for them), or send 'Authorization: Bearer <fleet key>'.").ExecuteAsync(Context);
    }

    private static string? Password(string parameter)
    {
        try
        {
            string pair = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
            int colon = pair.IndexOf(':', StringComparison.Ordinal);
            return colon < 0 ? null : pair[(colon + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
