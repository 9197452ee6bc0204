import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { MAX_EDGE_CIDRS } from '../config/schema';
import { acknowledgeNag } from '../nag';
import { Construct } from 'constructs';

/** The HTTPS listener's certificate: an existing one, or one ACM issues for the domain name. */
export type LoadBalancerCertificate =
  | {
      /** An ACM certificate in the stack's region covering the domain name. */
      readonly certificateArn: string;
    }
  | {
      /**
       * The hosted zone that validates the new certificate automatically.
       * @default - DNS validation by hand: CloudFormation waits until the CNAME ACM shows exists
       */
      readonly hostedZone?: {
        /** The Route 53 hosted zone id, e.g. Z0123456789ABC. */
        readonly hostedZoneId: string;
        /** The zone's domain name. */
        readonly zoneName: string;
      };
    };

/** An internet-facing ALB created by the LoadBalancer construct, with its access-log bucket. */
export interface CreatedLoadBalancerProps {
  /** The VPC whose public subnets hold the ALB. */
  readonly vpc: ec2.IVpc;
  /** The name of its security group is `<prefix>-alb`. */
  readonly prefix: string;
  /** The public domain the certificate covers. */
  readonly domainName: string;
  /** The HTTPS listener's certificate. */
  readonly certificate: LoadBalancerCertificate;
  /**
   * The IPv4 sources let in on 443 and 80: the edge's ranges (Cloudflare's), or 0.0.0.0/0 when clients
   * connect directly. At most 30: two rules each, and an SG holds 60 inbound rules.
   */
  readonly allowedCidrs: readonly string[];
  /** How long access logs stay in their bucket. */
  readonly accessLogsExpiration: Duration;
  /** Keep the access-log bucket when the stack is deleted (else it is emptied and deleted with it). */
  readonly retainAccessLogs: boolean;
  /**
   * Whether the ALB is to be protected from deletion. The template leaves the attribute out and the
   * DeletionProtection construct turns it on once the ALB exists (protection-plan.ts says why); when
   * false, the template turns it off.
   */
  readonly deletionProtection: boolean;
}

/** An existing ALB and its HTTPS listener, imported by attributes. */
export interface ImportedLoadBalancerProps {
  /** The VPC the ALB is in. */
  readonly vpc: ec2.IVpc;
  /** The ALB's attributes. */
  readonly existing: {
    /** The ALB's ARN (the WAF and the deletion-protection step act on it). */
    readonly loadBalancerArn: string;
    /** Its HTTPS listener, to which the chat constructs add their rules. */
    readonly listenerArn: string;
    /** Its security group: the task security groups let it in. */
    readonly securityGroupId: string;
    /** Its DNS name, for the CNAME record. */
    readonly dnsName: string;
    /** The hosted zone id of its DNS name (for alias records). */
    readonly canonicalHostedZoneId: string;
  };
}

export type LoadBalancerProps = CreatedLoadBalancerProps | ImportedLoadBalancerProps;

/**
 * The public entry point. Only the chat rules that the constructs add route
 * traffic; everything else gets the listener's fixed 404.
 */
export class LoadBalancer extends Construct {
  public readonly listener: elbv2.IApplicationListener;
  public readonly securityGroup: ec2.ISecurityGroup;
  /** The load balancer itself; imported by attributes in import mode. */
  public readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  /** Set only when the ALB is created here (its access logs). */
  public readonly accessLogsBucket?: s3.IBucket;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    if ('existing' in props) {
      const lb = props.existing;
      this.securityGroup = ec2.SecurityGroup.fromSecurityGroupId(this, 'SecurityGroup', lb.securityGroupId);
      this.loadBalancer = elbv2.ApplicationLoadBalancer.fromApplicationLoadBalancerAttributes(this, 'Alb', {
        loadBalancerArn: lb.loadBalancerArn,
        securityGroupId: lb.securityGroupId,
        loadBalancerDnsName: lb.dnsName,
        loadBalancerCanonicalHostedZoneId: lb.canonicalHostedZoneId,
        vpc: props.vpc,
      });
      this.listener = elbv2.ApplicationListener.fromApplicationListenerAttributes(this, 'HttpsListener', {
        listenerArn: lb.listenerArn,
        securityGroup: this.securityGroup,
      });
      return;
    }

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      securityGroupName: `${props.prefix}-alb`,
      description: 'Chat ALB',
      allowAllOutbound: true,
    });
    if (props.allowedCidrs.length === 0 || props.allowedCidrs.length > MAX_EDGE_CIDRS) {
      throw new Error(`LoadBalancer: allowedCidrs must list 1 to ${MAX_EDGE_CIDRS} CIDRs (two inbound rules each, 60 per SG), got ${props.allowedCidrs.length}`);
    }
    const anywhere = props.allowedCidrs.includes('0.0.0.0/0');
    for (const cidr of props.allowedCidrs) {
      const from = cidr === '0.0.0.0/0' ? 'anywhere' : cidr;
      securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), `HTTPS from ${from}`);
      // Not in the seed's SG list, but the HTTP->HTTPS redirect listener cannot answer without it.
      securityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(80), `HTTP from ${from}, redirected to HTTPS`);
    }
    this.securityGroup = securityGroup;
    if (anywhere) {
      acknowledgeNag(securityGroup, {
        id: 'AwsSolutions-EC23',
        reason: 'This is the public, internet-facing ALB with no edge in front (edge.allowedCidrs 0.0.0.0/0): it must accept 443 (and 80, redirected) from anywhere. Only those two ports are open.',
      });
    }

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // ALB access logs support SSE-S3 only, not SSE-KMS.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      lifecycleRules: [{ expiration: props.accessLogsExpiration }],
      // Plain Retain, not RetainExceptOnCreate: once access logging is on the bucket is never empty (ELB writes a
      // test object when logging is enabled, then a log file every 5 minutes of the traffic any public ALB gets), so
      // a rollback that tried to delete it would fail and leave the stack in ROLLBACK_FAILED. The bucket has a
      // generated name, so the one a failed first deploy leaves behind does not block the retry.
      removalPolicy: props.retainAccessLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !props.retainAccessLogs,
    });
    acknowledgeNag(accessLogs, {
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the ALB access logs; logging access to the log bucket itself would recurse.',
    });
    this.accessLogsBucket = accessLogs;

    const alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection,
      // Synapse /sync long-polls for up to 30 s and GraphQL subscriptions idle; 120 s keeps them open.
      idleTimeout: Duration.seconds(120),
      // The ALB appends the address it saw as the *last* X-Forwarded-For entry, bare (no :port): the one
      // entry a client cannot write. Synapse's edge proxy reads exactly that (docker/synapse-edge).
      xffHeaderProcessingMode: elbv2.XffHeaderProcessingMode.APPEND,
    });
    // Explicit (the CDK writes this attribute only when true): with a port, the entry is no address.
    alb.setAttribute('routing.http.xff_client_port.enabled', 'false');
    alb.logAccessLogs(accessLogs, 'alb');
    // The deletion-protection step turns it on once the ALB exists (protection-plan.ts): in the template it would
    // make a failed first deploy's rollback fail. Absent from the template, no later update resets it.
    if (props.deletionProtection) alb.removeAttribute('deletion_protection.enabled');
    this.loadBalancer = alb;

    const listener = alb.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      // ELBSecurityPolicy-TLS13-1-2-2021-06: TLS 1.3 preferred, TLS 1.2 as the floor.
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      certificates: [this.certificate(props.domainName, props.certificate)],
      defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'application/json', messageBody: '{"error":"not found"}' }),
      open: false,
    });
    alb.addListener('HttpRedirect', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      open: false,
    });
    this.listener = listener;
  }

  private certificate(domainName: string, cert: LoadBalancerCertificate): elbv2.IListenerCertificate {
    if ('certificateArn' in cert) return elbv2.ListenerCertificate.fromArn(cert.certificateArn);
    const validation = cert.hostedZone
      ? acm.CertificateValidation.fromDns(route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', cert.hostedZone))
      : // No zone: CloudFormation waits until the CNAME shown in the ACM console exists (Cloudflare in the seeds).
        acm.CertificateValidation.fromDns();
    return new acm.Certificate(this, 'Certificate', { domainName, validation });
  }
}
