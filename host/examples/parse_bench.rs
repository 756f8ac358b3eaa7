//! How fast the gateway turns a large answer into JSON: builds a 10 MB
//! EC2 `DescribeInstances` response in memory, parses it with the
//! operation's output shape a few times, and prints the throughput.
//!
//! ```sh
//! cargo run --release -p inventag --example parse_bench
//! ```
//!
//! An optional argument sets the size in MB (`... -- 50`).

use std::{fmt::Write, time::Instant};

use inventag::gateway::{
    catalogue::Catalogue,
    protocol::{self, WireResponse},
};

/// One reservation holding one instance, with the members a real answer
/// carries (network interfaces, block devices, tags...).
fn reservation(out: &mut String, n: usize) {
    let _ = write!(
        out,
        r#"<item><reservationId>r-{n:017x}</reservationId><ownerId>123456789012</ownerId>
<groupSet/><instancesSet><item><instanceId>i-{n:017x}</instanceId>
<imageId>ami-0abcdef1234567890</imageId><instanceState><code>16</code><name>running</name>
</instanceState><privateDnsName>ip-10-0-{a}-{b}.ec2.internal</privateDnsName>
<dnsName>ec2-54-0-{a}-{b}.compute-1.amazonaws.com</dnsName><reason/>
<keyName>deploy</keyName><amiLaunchIndex>0</amiLaunchIndex><productCodes/>
<instanceType>m5.large</instanceType><launchTime>2024-03-0{d}T12:34:56.000Z</launchTime>
<placement><availabilityZone>us-east-1a</availabilityZone><groupName/><tenancy>default</tenancy>
</placement><monitoring><state>disabled</state></monitoring>
<subnetId>subnet-0123456789abcdef0</subnetId><vpcId>vpc-0123456789abcdef0</vpcId>
<privateIpAddress>10.0.{a}.{b}</privateIpAddress><ipAddress>54.0.{a}.{b}</ipAddress>
<sourceDestCheck>true</sourceDestCheck><groupSet><item><groupId>sg-0123456789abcdef0</groupId>
<groupName>web</groupName></item></groupSet><architecture>x86_64</architecture>
<rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName>
<blockDeviceMapping><item><deviceName>/dev/xvda</deviceName><ebs>
<volumeId>vol-{n:017x}</volumeId><status>attached</status>
<attachTime>2024-03-01T12:34:57.000Z</attachTime><deleteOnTermination>true</deleteOnTermination>
</ebs></item></blockDeviceMapping><virtualizationType>hvm</virtualizationType>
<clientToken/><tagSet><item><key>Name</key><value>web-{n}</value></item>
<item><key>env</key><value>prod</value></item><item><key>team</key><value>platform</value></item>
<item><key>cost-centre</key><value>1234</value></item><item><key>empty</key><value/></item>
</tagSet><hypervisor>xen</hypervisor><networkInterfaceSet><item>
<networkInterfaceId>eni-{n:017x}</networkInterfaceId><subnetId>subnet-0123456789abcdef0</subnetId>
<vpcId>vpc-0123456789abcdef0</vpcId><description/><ownerId>123456789012</ownerId>
<status>in-use</status><macAddress>0a:00:00:00:00:01</macAddress>
<privateIpAddress>10.0.{a}.{b}</privateIpAddress><sourceDestCheck>true</sourceDestCheck>
<groupSet><item><groupId>sg-0123456789abcdef0</groupId><groupName>web</groupName></item>
</groupSet><attachment><attachmentId>eni-attach-{n:017x}</attachmentId>
<deviceIndex>0</deviceIndex><status>attached</status>
<attachTime>2024-03-01T12:34:56.000Z</attachTime><deleteOnTermination>true</deleteOnTermination>
</attachment><privateIpAddressesSet><item><privateIpAddress>10.0.{a}.{b}</privateIpAddress>
<primary>true</primary></item></privateIpAddressesSet><ipv6AddressesSet/>
<interfaceType>interface</interfaceType></item></networkInterfaceSet>
<ebsOptimized>false</ebsOptimized><enaSupport>true</enaSupport>
<cpuOptions><coreCount>1</coreCount><threadsPerCore>2</threadsPerCore></cpuOptions>
<metadataOptions><state>applied</state><httpTokens>required</httpTokens>
<httpPutResponseHopLimit>2</httpPutResponseHopLimit><httpEndpoint>enabled</httpEndpoint>
</metadataOptions></item></instancesSet></item>
"#,
        a = n / 256 % 256,
        b = n % 256,
        d = n % 9 + 1,
    );
}

fn main() {
    let megabytes: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10);
    let target = megabytes << 20;

    let mut body = String::with_capacity(target + 8192);
    body.push_str(
        "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\
         <requestId>bench</requestId><reservationSet>",
    );
    let mut instances = 0;
    while body.len() < target {
        reservation(&mut body, instances);
        instances += 1;
    }
    body.push_str("</reservationSet></DescribeInstancesResponse>");
    let response = WireResponse { status: 200, headers: Vec::new(), body: body.into_bytes() };
    let size_mb = response.body.len() as f64 / (1 << 20) as f64;

    let catalogue = Catalogue::new();
    let Ok(ec2) = catalogue.service("ec2") else {
        eprintln!("the ec2 model is missing from the catalogue");
        std::process::exit(1);
    };

    // One warm-up run, checked, then timed runs.
    match protocol::parse_output(&ec2, "DescribeInstances", &response) {
        Ok(out) => {
            let parsed = out["Reservations"].as_array().map_or(0, Vec::len);
            if parsed != instances {
                eprintln!("parsed {parsed} reservations, expected {instances}");
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("parse failed: {e}");
            std::process::exit(1);
        }
    }
    let runs = 5;
    let started = Instant::now();
    for _ in 0..runs {
        if let Err(e) = protocol::parse_output(&ec2, "DescribeInstances", &response) {
            eprintln!("parse failed: {e}");
            std::process::exit(1);
        }
    }
    let seconds = started.elapsed().as_secs_f64() / f64::from(runs);
    println!(
        "DescribeInstances: {size_mb:.1} MB, {instances} instances, {:.1} ms per parse, {:.1} MB/s",
        seconds * 1000.0,
        size_mb / seconds
    );
}
